from __future__ import annotations

import numpy as np

from bigsmall.signal.timing import nearest_index


def test_nearest_index_picks_the_closest_sample_ties_to_the_earlier() -> None:
    source = np.array([0.0, 1.0, 2.0, 4.0])
    target = np.array([-5.0, 0.4, 0.5, 0.6, 2.9, 3.1, 9.0])
    np.testing.assert_array_equal(nearest_index(source, target), [0, 0, 0, 1, 2, 3, 3])


def test_nearest_index_of_a_single_sample() -> None:
    np.testing.assert_array_equal(nearest_index(np.array([3.0]), np.array([0.0, 9.0])), [0, 0])
