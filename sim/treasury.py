"""Cash and credit: receipts when sales settle, payments when costs fall due, a credit line.

The firm's cash position (cash minus credit drawn) moves only through :meth:`Treasury.receive`
and :meth:`Treasury.pay`, so ``cash - credit = starting cash + receipts - payments - interest``
holds exactly. Sales settle after their payment method's delay, supplier deliveries are paid
after the supplier's terms, every other cost is paid the day it is booked (COGS and write-offs
are not cash: the stock was paid when bought). VAT is a pass-through: it is collected with the
settlement and remitted at once, so receipts are net of VAT.

When the position falls below minus the credit limit, cash plus credit has run out: spending
that can stop (reorders, marketing, retention offers) stops until receipts bring the position
back above the limit; the first such day is :attr:`Treasury.exhausted_day`.
"""

from __future__ import annotations

import math

from sim.calendar import DAYS_PER_YEAR
from sim.scenario import Finance


class Treasury:
    """Cash position, scheduled receipts and payments, and the credit line."""

    def __init__(self, starting_cash_base: float, finance: Finance):
        self.position_base = float(starting_cash_base)  # cash - credit drawn
        self.credit_limit_base = (
            math.inf if finance.credit_limit_base is None else float(finance.credit_limit_base)
        )
        self.daily_rate = finance.credit_interest_annual / DAYS_PER_YEAR
        self.finance = finance
        self._receipts_due: dict[int, float] = {}
        self._payments_due: dict[int, float] = {}
        self.receivable_base = 0.0
        self.payable_base = 0.0
        self.receipts_today = 0.0
        self.payments_today = 0.0
        self.interest_today = 0.0
        self.stopped = False
        self.exhausted_day: int | None = None
        self.day = -1  # the day last opened (before day 0: scheduling only)

    # ------------------------------------------------------------------ scheduling
    def receive_on(self, day: int, amount_base: float) -> None:
        """Cash that arrives on ``day`` (a sale settling; today or earlier: now)."""
        if day <= self.day:
            self.receive(amount_base)
        elif amount_base:
            self._receipts_due[day] = self._receipts_due.get(day, 0.0) + amount_base
            self.receivable_base += amount_base

    def pay_on(self, day: int, amount_base: float) -> None:
        """Cash that leaves on ``day`` (a supplier invoice falling due; today or earlier: now)."""
        if day <= self.day:
            self.pay(amount_base)
        elif amount_base:
            self._payments_due[day] = self._payments_due.get(day, 0.0) + amount_base
            self.payable_base += amount_base

    def receive(self, amount_base: float) -> None:
        """Cash in today."""
        self.position_base += amount_base
        self.receipts_today += amount_base

    def pay(self, amount_base: float) -> None:
        """Cash out today."""
        self.position_base -= amount_base
        self.payments_today += amount_base

    # ------------------------------------------------------------------ the day
    def open_day(self, day: int) -> float:
        """Charge interest on last night's credit, settle what falls due on ``day`` and decide
        whether spending that can stop stops today; returns today's interest."""
        self.day = day
        self.receipts_today = self.payments_today = 0.0
        self.interest_today = self.credit_drawn_base * self.daily_rate  # on last night's credit
        self.position_base -= self.interest_today
        due_in = self._receipts_due.pop(day, 0.0)
        self.receivable_base -= due_in
        self.receive(due_in)
        due_out = self._payments_due.pop(day, 0.0)
        self.payable_base -= due_out
        self.pay(due_out)
        self.stopped = self.position_base < -self.credit_limit_base
        if self.stopped and self.exhausted_day is None:
            self.exhausted_day = day
        return self.interest_today

    @property
    def cash_base(self) -> float:
        """Cash on hand (0 while the credit line is drawn)."""
        return max(self.position_base, 0.0)

    @property
    def credit_drawn_base(self) -> float:
        """Credit drawn (0 while cash is positive)."""
        return max(-self.position_base, 0.0)
