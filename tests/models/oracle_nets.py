"""Official networks with random weights, ported into a training model through the converter, and gradient
comparisons between the two frameworks' parameters."""
import numpy as np

from ppgan_face.convert import load_official_into
from ppgan_face.convert.converter import expected_entries
from ppgan_face.models.base_model import bare
from tests.oracles import compare, randomize_, save_official


def port(theirs, ours, path, key=None, std=None):
    """Randomise the official ``theirs``, save it as upstream does, load it into our ``ours`` (a bare net)."""
    randomize_(theirs, std=std)
    load_official_into(ours, save_official(theirs.state_dict(), path, key=key))
    return theirs


def grads(ours, theirs):
    """(our grads, official grads) of the parameters the official step gave a gradient, flattened in one
    vector each, in upstream layout."""
    entries = expected_entries(bare(ours))
    their_params = dict(theirs.named_parameters())
    mine, official = [], []
    for key, param in bare(ours).named_parameters():
        upstream_key, _, transpose = entries[key]
        reference = their_params[upstream_key].grad
        if reference is None:
            assert param.grad is None or not np.any(param.grad.numpy()), f"{key} has a gradient upstream has not"
            continue
        grad = param.grad.numpy()
        mine.append((grad.T if transpose else grad).ravel())
        official.append(reference.numpy().ravel())
    return np.concatenate(mine), np.concatenate(official)


def assert_grads_close(ours, theirs, what, rel_l2):
    max_abs, rel = compare(*grads(ours, theirs))
    print(f"{what}: gradients max abs {max_abs:.3g}, relative L2 {rel:.3g}")
    assert rel <= rel_l2, f"{what}: gradients differ from upstream's, relative L2 {rel:.3g} > {rel_l2}"
    return rel


def assert_params_close(ours, theirs, what, rel_l2):
    entries = expected_entries(bare(ours))
    their_params = dict(theirs.named_parameters())
    mine, official = [], []
    for key, param in bare(ours).named_parameters():
        upstream_key, _, transpose = entries[key]
        value = param.numpy()
        mine.append((value.T if transpose else value).ravel())
        official.append(their_params[upstream_key].detach().numpy().ravel())
    max_abs, rel = compare(np.concatenate(mine), np.concatenate(official))
    print(f"{what}: parameters max abs {max_abs:.3g}, relative L2 {rel:.3g}")
    assert rel <= rel_l2, f"{what}: parameters differ from upstream's, relative L2 {rel:.3g} > {rel_l2}"
    return rel
