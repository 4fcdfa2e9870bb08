"""The journey's ``transitions`` state machine: one per journey version, fired per call.

:func:`build_machine` builds the one machine a :class:`~bompao.definitions.compiled.CompiledJourney`
shares between all its projects. It is never bound to a project: each firing passes a
fresh :class:`Firing` as the machine's model (``machine.events[trigger].trigger(firing)``),
so the machine is only read while it fires and many threads may fire it at once.

- Each branch of a transition is one ``transitions`` transition; the machine tries a
  stage's transitions for a trigger in order and takes the first whose condition holds,
  which is exactly "the first branch whose gate passes wins".
- A branch's gate is its condition. With ``force`` (an override, or a follow-up's
  ``force: true``) the first branch's condition holds whatever its gate says.
- Stage exit and entry are the states' callbacks. They do no I/O: they note on the
  :class:`Firing` what the change has to write (cancel the follow-ups of the stage left,
  plan those of the stage entered), and the engine writes it.
- ``from: "*"`` is the machine's wildcard, expanded by :func:`wildcard_sources`: every
  non-final stage that is none of the transition's destinations.
- :class:`JourneyEvent` and :meth:`BranchTransition.execute` fire with the library's
  semantics but without its event queue, empty hooks and per-step logging, which
  cost more than the rest of an advance's transitions step (``bench/state_machine.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from transitions import Event, EventData, Machine, Transition

from bompao.definitions.checks import wildcard_sources

if TYPE_CHECKING:
    from bompao.definitions.compiled import (
        CompiledBranch,
        CompiledJourney,
        CompiledTransition,
        CriterionResult,
        GateContext,
    )

__all__ = ["BranchTransition", "Firing", "JourneyEvent", "JourneyMachine", "build_machine"]


class Firing:
    """One firing of one trigger for one project: the per-call model of the shared machine.

    Attributes:
        state: the stage (the machine sets it to the destination when a branch is taken).
        tried: each branch whose gate the machine evaluated, in order, with its verdict.
        taken: the branch taken, or None when no gate passed (nothing moved).
        branched: the transition taken was declared with ``branches``.
        steps: ``("exit", stage)`` and ``("enter", stage)`` in the order the callbacks ran.
        cancel: the stage left has follow-ups to cancel.
        plan: the stage entered has follow-ups to plan.
    """

    __slots__ = ("branched", "cancel", "context", "force", "journey", "plan", "state", "steps",
                 "taken", "tried")

    def __init__(self, journey: CompiledJourney, stage: str, context: GateContext, *,
                 force: bool = False) -> None:
        self.journey = journey
        self.state = stage
        self.context = context
        self.force = force
        self.tried: list[tuple[CompiledBranch, CriterionResult]] = []
        self.taken: CompiledBranch | None = None
        self.branched = False
        self.steps: list[tuple[str, str]] = []
        self.cancel = False
        self.plan = False


class BranchTransition(Transition):
    """A ``transitions`` transition that knows the journey transition and branch it is."""

    def __init__(self, source: str, dest: str, conditions: Any = None,  # noqa: PLR0917
                 unless: Any = None, before: Any = None, after: Any = None,
                 prepare: Any = None, *, compiled: CompiledTransition,
                 branch: CompiledBranch) -> None:
        super().__init__(source, dest, conditions=conditions, unless=unless, before=before,
                         after=after, prepare=prepare)
        self.compiled = compiled
        self.branch = branch

    def execute(self, event_data: Any) -> bool:
        """The library's ``Transition.execute`` for a journey branch (conditions, then
        ``before``, exit, state change, entry), without a log call at every step.
        ``prepare`` and ``after`` callbacks a journey branch never has."""
        conditions: list[Any] = self.conditions
        for condition in conditions:  # Condition.check, for a callable and send_event
            if condition.func(event_data) != condition.target:
                return False
        before: list[Any] = self.before
        for callback in before:
            callback(event_data)
        machine = event_data.machine
        for callback in machine.states[self.source].on_exit:
            callback(event_data)
        setattr(event_data.model, machine.model_attribute, self.dest)
        event_data.state = entered = machine.states[self.dest]
        for callback in entered.on_enter:
            callback(event_data)
        return True


class JourneyEvent(Event):
    """A ``transitions`` event whose firing skips what journeys never use.

    Same semantics as the library's ``Event.trigger`` (the stage's transitions for the
    trigger are tried in order; the first whose conditions hold runs its ``before``
    callbacks, the source's exit callbacks, sets the model's state, runs the
    destination's entry callbacks), without the event queue, the machine-wide
    prepare/finalize/before/after hooks (a journey machine has none; the builder makes
    sure) and a log call at every step: those took most of the 20-50 µs a firing cost.
    A stage that does not offer the trigger goes to the library's own path, which
    raises its ``MachineError``. ``tests/definitions/test_branches.py`` checks that both
    paths agree.
    """

    def trigger(self, model: Any, *args: Any, **kwargs: Any) -> bool:
        """Fire on ``model``; True when a transition was taken."""
        found = self.transitions.get(model.state)
        if not found:
            return bool(super().trigger(model, *args, **kwargs))
        machine = self.machine
        event_data = EventData(machine.states[model.state], self, machine, model, args,
                               kwargs)
        for transition in found:
            event_data.transition = transition
            if transition.execute(event_data):
                event_data.result = True
                return True
        return False


def _gate_passes(event: Any) -> bool:
    """The condition of every branch: its gate, evaluated on the firing's context."""
    firing: Firing = event.model
    branch: CompiledBranch = event.transition.branch
    result = branch.evaluate(firing.context, firing.journey)
    firing.tried.append((branch, result))
    return bool(result.met) or (firing.force and branch.index == 0)


def _take(event: Any) -> None:
    firing: Firing = event.model
    firing.taken = event.transition.branch
    firing.branched = event.transition.compiled.branched


def _exit(stage: str, has_follow_ups: bool) -> Any:
    """The exit callback of ``stage``: note it, and whether its follow-ups are cancelled."""
    def exited(event: Any) -> None:
        firing: Firing = event.model
        firing.steps.append(("exit", stage))
        firing.cancel = has_follow_ups
    return exited


def _enter(stage: str, has_follow_ups: bool) -> Any:
    """The entry callback of ``stage``: note it, and whether its follow-ups are planned."""
    def entered(event: Any) -> None:
        firing: Firing = event.model
        firing.steps.append(("enter", stage))
        firing.plan = has_follow_ups
    return entered


class JourneyMachine(Machine):
    """A ``transitions`` machine whose transitions are journey branches and whose
    wildcard means what ``from: "*"`` means in a journey."""

    transition_cls = BranchTransition
    event_cls = JourneyEvent

    def add_transition(self, trigger: str, source: Any, dest: Any = None,  # noqa: PLR0917
                       conditions: Any = None, unless: Any = None, before: Any = None,
                       after: Any = None, prepare: Any = None, **kwargs: Any) -> None:
        """Add one branch; ``"*"`` expands to every non-final stage that is none of the
        transition's destinations (``kwargs["compiled"]`` is the journey transition)."""
        if source == self.wildcard_all:
            compiled: CompiledTransition = kwargs["compiled"]
            source = wildcard_sources(
                {name: bool(state.final) for name, state in self.states.items()},
                compiled.dests)
        super().add_transition(trigger, source, dest, conditions, unless, before, after,
                               prepare, **kwargs)

    firing_cls = Firing
    """The per-call model (so that callers need not import this module to make one)."""

    def callbacks(self, funcs: Any, event_data: Any) -> None:
        """Call each callback with the event (every callback here is a plain callable
        taking the event: no name to resolve on the model, no log line per call)."""
        for func in funcs:
            func(event_data)


def build_machine(journey: CompiledJourney) -> JourneyMachine:
    """The one machine of ``journey``: its stages, and each transition's branches in order."""
    machine = JourneyMachine(
        model=None, initial=journey.initial, auto_transitions=False, send_event=True,
        states=[{"name": name, "final": stage.final,
                 "on_exit": [_exit(name, bool(stage.follow_ups))],
                 "on_enter": [_enter(name, bool(stage.follow_ups))]}
                for name, stage in journey.stages.items()])
    for transition in journey.transitions:
        source: Any = "*" if transition.wildcard else list(transition.sources)
        for branch in transition.branches:
            machine.add_transition(transition.trigger, source, branch.dest,
                                   conditions=[_gate_passes], before=[_take],
                                   compiled=transition, branch=branch)
    # what JourneyEvent and BranchTransition.execute skip must indeed be empty
    skipped = (machine.prepare_event, machine.finalize_event, machine.before_state_change,
               machine.after_state_change, machine.on_final, machine.has_queue)
    if any(skipped):
        raise RuntimeError("a journey machine has no machine-wide callbacks and no queue")
    return machine
