import numpy as np
import torch
from sklearn.svm import SVC

from m2p_core.model.descriptor_head import KernelDescriptorHead


def _data(n=240, d=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, d) + rng.normal(size=d)
    signs = np.stack([np.sign(x[:, 0] + 0.3 * rng.normal(size=n)),
                      np.sign(x[:, 1] * x[:, 2] + 0.1)], 1)
    return x, signs


def test_matches_scikit_learn_decision_function():
    x, signs = _data()
    head = KernelDescriptorHead(x.shape[1])
    head.fit(x, signs, np.ones(len(x)), c=0.5)
    z = (x - x.mean(0)) / (x.std(0) + 1e-6)
    gamma = 1.0 / (z.shape[1] * z.var())
    out = head(torch.tensor(x, dtype=torch.float32)).numpy()
    for axis in range(2):
        ref = SVC(C=0.5, gamma=gamma).fit(z, signs[:, axis]).decision_function(z)
        np.testing.assert_allclose(out[:, axis], ref, atol=1e-4)


def test_unfitted_head_contributes_zero_and_state_round_trips():
    x, signs = _data()
    empty = KernelDescriptorHead(x.shape[1])
    assert not empty.fitted
    assert torch.count_nonzero(empty(torch.tensor(x, dtype=torch.float32))) == 0
    head = KernelDescriptorHead(x.shape[1])
    head.fit(x, signs, np.ones(len(x)))
    clone = KernelDescriptorHead(x.shape[1], head.n_support)
    clone.load_state_dict(head.state_dict())
    xt = torch.tensor(x, dtype=torch.float32)
    assert torch.equal(clone(xt), head(xt))


def test_predicts_the_learnable_axis():
    x, signs = _data(n=400)
    head = KernelDescriptorHead(x.shape[1])
    head.fit(x[:300], signs[:300], np.ones(300))
    pred = np.sign(head(torch.tensor(x[300:], dtype=torch.float32)).numpy())
    assert np.mean(pred[:, 0] == signs[300:, 0]) > 0.8
