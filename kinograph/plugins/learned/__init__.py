"""Learned nodes: ResNet features and the LSTM action generator (torch is imported when they run),
and the ``train`` and ``evaluate motion`` commands that make and measure its checkpoints."""

from __future__ import annotations

from kinograph.api import Command, Node, hookimpl
from kinograph.plugins.learned.action_generator import LSTMActionGenerator
from kinograph.plugins.learned.measure_node import MeasureMotion
from kinograph.plugins.learned.resnet_features import ResNetFeatures


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [ResNetFeatures, LSTMActionGenerator, MeasureMotion]


@hookimpl
def kinograph_commands() -> list[Command]:
    from kinograph.plugins.learned.commands import commands

    return commands()
