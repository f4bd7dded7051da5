"""Landed consumer prices: list price plus import duty above de minimis and VAT, and back."""

from __future__ import annotations

import numpy as np


def landed_price_local(
    list_local: np.ndarray | float,
    *,
    vat_rate: float,
    duty_rate: float,
    de_minimis_local: float,
    cross_border: bool,
) -> np.ndarray:
    """Consumer price of a list price (local currency): duty above de minimis when the order
    crosses a border, then VAT."""
    p = np.asarray(list_local, dtype=float)
    duty = 0.0
    if cross_border:
        duty = np.where(p > de_minimis_local, duty_rate, 0.0)
    return p * (1.0 + duty) * (1.0 + vat_rate)


def tax_components_local(
    list_local: np.ndarray,
    *,
    vat_rate: float,
    duty_rate: float,
    de_minimis_local: float,
    cross_border: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Import duty and VAT (local currency) inside the landed price of ``list_local``.

    Duty is the list price times the duty rate when the order crosses a border above de
    minimis; VAT is the VAT share of the landed price (VAT is charged on list price plus
    duty), so ``landed - vat`` is exactly the seller's revenue net of VAT.
    """
    p = np.asarray(list_local, dtype=float)
    duty = np.zeros_like(p)
    if cross_border:
        duty = np.where(p > de_minimis_local, p * duty_rate, 0.0)
    landed = landed_price_local(
        p,
        vat_rate=vat_rate,
        duty_rate=duty_rate,
        de_minimis_local=de_minimis_local,
        cross_border=cross_border,
    )
    return duty, landed * (vat_rate / (1.0 + vat_rate))


def list_price_local(
    consumer_local: np.ndarray | float,
    *,
    vat_rate: float,
    duty_rate: float,
    de_minimis_local: float,
    cross_border: bool,
) -> np.ndarray:
    """The list price whose landed consumer price is ``consumer_local`` (inverse of
    :func:`landed_price_local`; in the gap the de-minimis jump creates, the threshold itself)."""
    c = np.asarray(consumer_local, dtype=float)
    no_duty = c / (1.0 + vat_rate)
    if not cross_border or duty_rate == 0.0:
        return no_duty
    with_duty = no_duty / (1.0 + duty_rate)
    return np.where(
        no_duty <= de_minimis_local,
        no_duty,
        np.maximum(with_duty, np.minimum(no_duty, de_minimis_local)),
    )


def to_reference(price_local: np.ndarray, fx_reference_local_per_base: float) -> np.ndarray:
    """Local prices in reference base-currency units (what consumers' price weights use)."""
    return price_local / fx_reference_local_per_base
