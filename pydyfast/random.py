"""Random-number generators: ``Generator`` (``torch.Generator``) and the global default one.

Every random function of pydyfast draws from a numpy ``Generator`` on the CPU and moves the
result to the tensor's device, so one seed gives the same numbers on every device. Functions
that take ``generator=`` accept a ``pydyfast.Generator`` (or a numpy ``Generator``); without one
they use ``default_generator``, which ``pydyfast.manual_seed`` reseeds.
"""
import numpy as np

from .cuda import Device

__all__ = ["Generator", "default_generator", "numpy_generator", "initial_seed", "seed"]


class Generator:
    """An independent stream of random numbers, seeded with ``manual_seed`` as in PyTorch.

    >>> g = pydyfast.Generator().manual_seed(0)
    >>> pydyfast.rand(3, generator=g)     # the same three numbers for every Generator seeded 0
    """

    def __init__(self, device="cpu"):
        self.device = Device(device)
        self.seed()

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (an int); returns the generator itself."""
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"Generator.manual_seed: expected an int seed, got "
                            f"{type(seed).__name__}") from None
        # torch accepts negative seeds (taken modulo 2**64); numpy wants a non-negative int.
        self._initial_seed = seed % (1 << 64)
        self.numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self):
        """Reseed from fresh OS entropy and return the new seed."""
        new_seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self):
        """The seed this stream was last started from."""
        return self._initial_seed

    def get_state(self):
        """A snapshot of the stream (a dict; pass it to ``set_state`` to replay from here)."""
        return {"initial_seed": self._initial_seed, "bit_generator": self.numpy.bit_generator.state}

    def set_state(self, state):
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise TypeError("Generator.set_state: expected a state from Generator.get_state()")
        self._initial_seed = state["initial_seed"]
        self.numpy.bit_generator.state = state["bit_generator"]
        return self

    def __repr__(self):
        return f"<pydyfast.Generator device={self.device}>"


default_generator = Generator()


def numpy_generator(generator, op):
    """The numpy Generator to draw from for ``op``'s ``generator=`` argument."""
    if generator is None:
        return default_generator.numpy
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{op}: generator must be a pydyfast.Generator (or a numpy Generator), got "
                    f"{type(generator).__name__}")


def initial_seed():
    """The seed the default generator was last started from (``torch.initial_seed``)."""
    return default_generator.initial_seed()


def seed():
    """Reseed the default generator from OS entropy and return the seed (``torch.seed``)."""
    return default_generator.seed()
