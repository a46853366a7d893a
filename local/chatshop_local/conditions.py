"""Resolves a template's Conditions before the emulator sees it, as CloudFormation would.

The emulator's CloudFormation evaluates ``Fn::If`` but keeps what an ``AWS::NoValue`` branch leaves
behind as a null: a role whose policy list holds a conditional policy then fails to create. Here
every condition that depends only on parameters is evaluated, each ``Fn::If`` on it replaced by its
branch, ``AWS::NoValue`` removed from the lists and objects holding it, and resources switched off
by their Condition left out. A condition that needs anything else is left for the emulator.

Pseudo parameters given among the parameters (``{"AWS::Region": "eu-west-1"}``) are known too: a
feature's ``Deploys<Feature>`` condition tests the region, so a region's stack is its own.
"""

from __future__ import annotations

from typing import Any

_NO_VALUE = {"Ref": "AWS::NoValue"}
_REMOVED = object()


class _Unresolved(Exception):
    pass


def resolve_conditions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The template with what its parameters decide already decided (the given dict is not changed)."""
    values = {
        name: str(parameters.get(name, spec.get("Default", "")))
        for name, spec in template.get("Parameters", {}).items()
    }
    values.update({name: str(value) for name, value in parameters.items() if name.startswith("AWS::")})
    known = _evaluate_conditions(template.get("Conditions", {}), values)
    resolved = dict(template)
    if "Globals" in template:
        resolved["Globals"] = _resolve(template["Globals"], known)
    resources = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if known.get(resource.get("Condition")) is False:
            continue
        resources[logical_id] = _resolve(resource, known)
    resolved["Resources"] = resources
    if "Outputs" in template:
        resolved["Outputs"] = {
            name: _resolve(output, known)
            for name, output in template["Outputs"].items()
            if known.get(output.get("Condition")) is not False
        }
    return resolved


def deployed_resources(template: dict[str, Any], parameters: dict[str, str]) -> set[str]:
    """The logical ids of the resources a stack with these parameters creates."""
    return set(resolve_conditions(template, parameters)["Resources"])


def _evaluate_conditions(conditions: dict[str, Any], values: dict[str, str]) -> dict[str, bool]:
    known: dict[str, bool] = {}

    def condition(name: str) -> bool:
        if name not in known:
            if name not in conditions:
                raise _Unresolved
            known[name] = evaluate(conditions[name])
        return known[name]

    def evaluate(expression: Any) -> bool:
        if not isinstance(expression, dict) or len(expression) != 1:
            raise _Unresolved
        ((function, arguments),) = expression.items()
        if function == "Fn::Equals":
            left, right = (value(argument) for argument in arguments)
            return left == right
        if function == "Fn::Not":
            return not evaluate(arguments[0])
        if function == "Fn::And":
            return all(evaluate(argument) for argument in arguments)
        if function == "Fn::Or":
            return any(evaluate(argument) for argument in arguments)
        if function == "Condition":
            return condition(arguments)
        raise _Unresolved

    def value(argument: Any) -> str:
        if isinstance(argument, str | int | float | bool):
            return str(argument)
        if isinstance(argument, dict) and set(argument) == {"Ref"} and argument["Ref"] in values:
            return values[argument["Ref"]]
        raise _Unresolved

    for name in conditions:
        try:
            condition(name)
        except _Unresolved:
            continue
    return known


def _resolve(node: Any, known: dict[str, bool]) -> Any:
    if isinstance(node, dict):
        if node == _NO_VALUE:
            return _REMOVED
        if set(node) == {"Fn::If"}:
            name, when_true, when_false = node["Fn::If"]
            if name in known:
                return _resolve(when_true if known[name] else when_false, known)
            # Left for the emulator: its branches stay whole, an AWS::NoValue among them included.
            branches = [_resolve(branch, known) for branch in (when_true, when_false)]
            return {"Fn::If": [name, *(_NO_VALUE if b is _REMOVED else b for b in branches)]}
        kept = {key: _resolve(value, known) for key, value in node.items()}
        return {key: value for key, value in kept.items() if value is not _REMOVED}
    if isinstance(node, list):
        kept_items = [_resolve(item, known) for item in node]
        return [item for item in kept_items if item is not _REMOVED]
    return node
