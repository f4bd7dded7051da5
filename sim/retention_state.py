"""Retention offers in flight: contacts, responses, win-backs of lapsed customers, redemptions.

The firm cannot tell a lapsed customer (dropped out, BG/NBD "dead") from a dormant one
(alive but quiet): an offer reaches both. What the offer does:

* **Contact.** Every targeted customer holds the offer until its window ends
  (``duration_days`` after the decision, or earlier when a new action replaces it). The
  model books ``cost_per_customer_base`` per contact (``sim.decisions``).
* **Response.** With the action's ``response_probability`` (a counter-based draw keyed by
  consumer and contact day, so variants share it), a contacted customer acts on the offer
  on a day drawn uniformly inside the window: a *lapsed* customer returns to the alive
  state (reactivation; after the response its next occasion is drawn afresh from that day
  with its own BG/NBD rate and dropout), a dormant one simply comes. The response is one
  extra purchase occasion among our listed offers (the customer came to redeem: competitors
  and the outside option are not considered; stock, payment and the drawn category still
  apply) and it is **dropout-free**: it adds no BG/NBD dropout chance. A customer who has
  already ordered within the window does not respond again.
* **Redemption (= win-back).** A contacted customer's first order with us inside the window
  redeems the offer: ``cost_per_redemption_base`` (the coupon's value) is booked on that
  order as retention cost, and the contact counts as *won back*. Offers that end unused
  count as not won back; contacts whose window is still open at the horizon are left out.

Per-consumer state is two narrow arrays (offer code int8, window end int16) allocated on the
first contact only, so a run without retention offers carries nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import keyed
from sim.errors import StrategyError
from sim.exact_dot import dot
from sim.id_sets import positions_by_key, sorted_distinct

if TYPE_CHECKING:
    from sim.consumers import CategoryOffers, Fulfil, OccasionResult, RegionalConsumers
    from sim.contract import RetentionAction
    from sim.model import MarketModel

SALT_RESPOND = 11
SALT_RESPONSE_DAY = 12
OFFER_OCCASION_SALT = 3000  # salt of the response occasion's taste and category draws
MAX_OFFER_KINDS = 127  # distinct (action, redemption value) pairs per run (int8 codes)
#: tally columns per (region, offer kind)
TALLY = ("contacted", "responded", "won_back", "not_won_back", "reactivated")


class OfferBook:
    """Every region's running offers (one per customer) and their outcome tally."""

    def __init__(self, model: MarketModel):
        self.model = model
        n_regions = len(model.region_ids)
        self._code: list[np.ndarray | None] = [None] * n_regions  # 0 = no running offer
        self._until: list[np.ndarray | None] = [None] * n_regions
        self._kinds: list[tuple[str, float]] = []  # code - 1 -> (action, value per redemption)
        self._tally = np.zeros((n_regions, MAX_OFFER_KINDS, len(TALLY)), dtype=np.int64)
        self._cost = np.zeros((n_regions, MAX_OFFER_KINDS, 2))  # contact, redemption cost
        self._expiries: dict[int, list[tuple[int, np.ndarray, int]]] = {}
        self._responses: dict[int, list[tuple[int, np.ndarray]]] = {}
        self._key = np.uint64(
            model.streams.get("retention_offers").integers(0, 2**63, dtype=np.int64)
        )

    # ------------------------------------------------------------------ contacts
    def _kind(self, action: RetentionAction) -> int:
        kind = (action.action, float(action.cost_per_redemption_base))
        if kind not in self._kinds:
            if len(self._kinds) >= MAX_OFFER_KINDS:
                raise StrategyError(
                    f"retention strategy: more than {MAX_OFFER_KINDS} distinct offers "
                    "(action name, cost_per_redemption_base) in one run"
                )
            self._kinds.append(kind)
        return self._kinds.index(kind) + 1

    def _arrays(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        code, until = self._code[r], self._until[r]
        if code is None or until is None:
            pop = self.model.consumers[r]
            size = int(getattr(pop, "capacity", pop.n))
            code = self._code[r] = np.zeros(size, dtype=np.int8)
            until = self._until[r] = np.full(size, -1, dtype=np.int16)
        return code, until

    def start(self, r: int, day: int, ids: np.ndarray, action: RetentionAction) -> None:
        """Contact ``ids`` (our customers in region ``r``) with ``action`` today."""
        code_of, until_of = self._arrays(r)
        ids = sorted_distinct(np.asarray(ids, dtype=np.int64), len(code_of))
        k = self._kind(action)
        self._resolve(r, ids[code_of[ids] > 0], won=False)  # a new offer replaces a running one
        end = min(day + action.duration_days, self.model.horizon_days)
        code_of[ids] = k
        until_of[ids] = end
        self._expiries.setdefault(end, []).append((r, ids, k))
        self._tally[r, k - 1, 0] += len(ids)
        contact_cost = action.cost_per_customer_base * len(ids)
        self._cost[r, k - 1, 0] += contact_cost
        firm = self.model.firm
        firm.book("offers_sent", r, len(ids))
        firm.book("retention_contact_base", r, contact_cost)
        p = action.response_probability
        if p <= 0:
            return
        keys = keyed.occasion_keys(self._key, ids, np.full(len(ids), day, dtype=np.int64))
        responds = keyed.uniforms(keys, SALT_RESPOND) < p
        offset = np.floor(keyed.uniforms(keys, SALT_RESPONSE_DAY) * action.duration_days)
        when = day + offset.astype(np.int64)
        responds &= when < self.model.horizon_days
        who = ids[responds]
        for d, sel in positions_by_key(when[responds]):  # each day's responders in id order
            self._responses.setdefault(d, []).append((r, who[sel]))

    def _resolve(self, r: int, ids: np.ndarray, *, won: bool) -> None:
        """Close the running offers of ``ids`` as won back or not."""
        if not len(ids):
            return
        code_of = self._code[r]
        assert code_of is not None
        counts = np.bincount(code_of[ids], minlength=MAX_OFFER_KINDS + 1)[1:]
        self._tally[r, :, 2 if won else 3] += counts
        code_of[ids] = 0

    # ------------------------------------------------------------------ redemptions
    def redeem(self, r: int, cons: np.ndarray) -> None:
        """Today's buyers ``cons`` in region ``r``: a running offer is redeemed on the order."""
        code_of = self._code[r]
        if code_of is None:
            return
        codes = code_of[cons]
        used = codes > 0
        if not used.any():
            return
        counts = np.bincount(codes[used], minlength=MAX_OFFER_KINDS + 1)[1:]
        values = np.array(
            [v for _, v in self._kinds] + [0.0] * (MAX_OFFER_KINDS - len(self._kinds))
        )
        cost = float(dot(counts, values))
        self._cost[r, :, 1] += counts * values
        firm = self.model.firm
        firm.book("retention_base", r, cost)
        firm.book("retention_redeemed_base", r, cost)
        firm.book("offers_redeemed", r, int(used.sum()))
        self._resolve(r, cons[used], won=True)

    def expire(self, day: int) -> None:
        """Offers whose window ends today and were not used: not won back."""
        for r, ids, k in self._expiries.pop(day, []):
            code_of, until_of = self._code[r], self._until[r]
            assert code_of is not None and until_of is not None
            self._resolve(r, ids[(code_of[ids] == k) & (until_of[ids] == day)], won=False)

    # ------------------------------------------------------------------ responses
    def respond(
        self,
        day: int,
        r: int,
        offers: list[CategoryOffers],
        payment_supported: np.ndarray,
        fulfil: Fulfil,
        res: OccasionResult,
    ) -> None:
        """Today's responders in region ``r``: lapsed ones return, each has one dropout-free
        occasion among our offers; returned ones then draw a fresh next occasion."""
        today = self._responses.pop(day, [])
        due = [ids for rr, ids in today if rr == r]
        rest = [(rr, ids) for rr, ids in today if rr != r]
        if rest:
            self._responses[day] = rest
        if not due:
            return
        code_of = self._code[r]
        assert code_of is not None
        idx = sorted_distinct(np.concatenate(due), len(code_of))
        idx = idx[code_of[idx] > 0].astype(np.int32)  # not yet redeemed
        if not len(idx):
            return
        pop = self.model.consumers[r]
        lapsed = idx[~pop.alive[idx]]
        revive(pop, lapsed)
        k = code_of[idx]
        np.add.at(self._tally[r, :, 1], k - 1, 1)
        np.add.at(self._tally[r, :, 4], code_of[lapsed] - 1, 1)
        self.model.firm.book("reactivated_customers", r, len(lapsed))
        ours_only = [_ours_only(o) for o in offers]
        pop._occasion_round(
            day,
            idx,
            ours_only,
            payment_supported,
            fulfil,
            res,
            dropout=False,
            salt=OFFER_OCCASION_SALT + day,
            outside=False,
        )
        if len(lapsed):
            pop._schedule(lapsed, np.full(len(lapsed), pop.season_cumulative[day]))

    # ------------------------------------------------------------------ results
    def table(self) -> pd.DataFrame:
        """Per region and offer: contacted, responded, won back (ordered within the window),
        not won back (window ended unused), reactivated lapsed customers, costs."""
        rows = []
        for r, region_id in enumerate(self.model.region_ids):
            for k, (action, value) in enumerate(self._kinds):
                t = self._tally[r, k]
                if not t[0]:
                    continue
                resolved = t[2] + t[3]
                rows.append(
                    {
                        "region": region_id,
                        "action": action,
                        "value_per_redemption_base": value,
                        **{name: int(t[i]) for i, name in enumerate(TALLY)},
                        "win_back_rate": t[2] / resolved if resolved else float("nan"),
                        "contact_cost_base": float(self._cost[r, k, 0]),
                        "redemption_cost_base": float(self._cost[r, k, 1]),
                    }
                )
        columns = [
            "region",
            "action",
            "value_per_redemption_base",
            *TALLY,
            "win_back_rate",
            "contact_cost_base",
            "redemption_cost_base",
        ]
        return pd.DataFrame(rows, columns=columns)


def revive(pop: RegionalConsumers, idx: np.ndarray) -> None:
    """Lapsed customers ``idx`` return to the alive state (counters follow; the caller
    draws their next occasion).

    What resets: the purchase-rate multipliers a customer carried when they dropped out.
    A retention action's rate multiplier whose term ended while they were lapsed (the
    action's expiry resets only alive customers) is stale: it goes back to 1. The late
    delivery's repeat-intent cut (``sim.experience``) goes back to 1 too: answering a
    win-back offer is the renewed intent that cut stood for, and the next occasion is drawn
    afresh "with its own BG/NBD rate". What stays: satisfaction and loyalty (memories of
    the experience, which still raise dropout and move choice), and a retention action
    still running (its term has not ended).
    """
    if not len(idx):
        return
    stale = idx[pop.retention_until[idx] < 0]
    pop.rate_multiplier[stale] = 1.0
    if pop.intent is not None:
        pop.intent[idx] = 1.0
    pop.alive[idx] = True
    np.add.at(pop._last_day_hist, pop.last_day[idx], 1)
    sat = pop.satisfaction[idx]
    pop.n_dissatisfied += int((sat < pop.spec.service.dissatisfied_below).sum())
    pop.n_alive_customers += len(idx)
    pop.satisfaction_sum += float(sat.sum())


def _ours_only(o: CategoryOffers) -> CategoryOffers:
    """The category's offers with the competitors' removed (a response comes to us)."""
    empty = np.zeros(0)
    return replace(
        o,
        comp_quality=empty,
        comp_eco=empty,
        comp_price_ref=empty,
        comp_delivery_days=empty,
        comp_ids=np.zeros(0, dtype=np.int64),
        comp_sellers=np.zeros(0, dtype=np.int64),
    )
