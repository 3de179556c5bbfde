"""Several loop hooks as one: the loop takes one ``Hooks`` object, a run often needs a few.

A run on Ray, for instance, is a time budget (stop, learning rate), the recorder (files) and the
Ray reporter; each stays small and knows nothing of the others. Order matters only where one
reads what an earlier one did: hooks are called in the order given (the reporter after the
recorder, so it sees the snapshot the recorder just wrote).
"""

from __future__ import annotations

from posering.train.loop import EpochEnd, Hooks


class HookChain(Hooks):
    """Calls each hook in turn; models and loaders pass through every ``prepare_*``."""

    def __init__(self, *hooks: Hooks | None):
        self.hooks = [h for h in hooks if h is not None]

    def prepare_model(self, model):
        for hook in self.hooks:
            model = hook.prepare_model(model)
        return model

    def prepare_loader(self, loader):
        for hook in self.hooks:
            loader = hook.prepare_loader(loader)
        return loader

    def start(self, total_iterations: int, first_epoch: int, epochs: int) -> None:
        for hook in self.hooks:
            hook.start(total_iterations, first_epoch, epochs)

    def iteration(self, iteration: int, epoch: int, loss) -> None:
        for hook in self.hooks:
            hook.iteration(iteration, epoch, loss)

    def display(self, iteration: int, epoch: int, losses: dict[str, float], lr: float) -> None:
        for hook in self.hooks:
            hook.display(iteration, epoch, losses, lr)

    def should_stop(self) -> bool:
        # Every hook is asked (a budget hook synchronises its clock across workers when asked).
        return any([hook.should_stop() for hook in self.hooks])

    def evaluate(self, model, epoch: int) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for hook in self.hooks:
            metrics.update(hook.evaluate(model, epoch) or {})
        return metrics

    def epoch_end(self, end: EpochEnd) -> None:
        for hook in self.hooks:
            hook.epoch_end(end)
