"""Counter-based draws (`sim.keyed`): in-place arithmetic leaves the caller's keys alone."""

from __future__ import annotations

import numpy as np

from sim import keyed


def test_mix64_leaves_its_argument_and_gumbel_paths_agree() -> None:
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**63, 257, dtype=np.int64).astype(np.uint64)
    before = keys.copy()
    mixed = keyed.mix64(keys)
    np.testing.assert_array_equal(keys, before)
    assert not np.array_equal(mixed, keys)
    ids = np.array([0, 3, 11, keyed.OUTSIDE_OPTION_ID])
    noise = keyed.gumbel_noise(keys, keyed.taste_steps(ids))
    np.testing.assert_array_equal(noise, keyed.gumbel_matrix(keys, ids))
    np.testing.assert_array_equal(keys, before)
    # column j is the taste shock of option j alone: the same whatever the other columns
    np.testing.assert_array_equal(noise[:, 2], keyed.gumbel_matrix(keys, ids[2:3])[:, 0])
    u = keyed.uniforms(keys, keyed.SALT_DROPOUT)
    assert ((u > 0) & (u < 1)).all()


def test_int_salts_kept_and_equal_to_the_array_path() -> None:
    keys = np.arange(1, 40, dtype=np.uint64)
    for salt in (keyed.SALT_NEXT, keyed.SALT_DROPOUT + 100, 2**40):
        np.testing.assert_array_equal(
            keyed.uniforms(keys, salt), keyed.uniforms(keys, np.int64(salt))
        )
        assert keyed.salt_steps(salt) is keyed.salt_steps(salt)
