"""Learned nodes: ResNet features and the LSTM action generator (torch is imported when they run)."""

from __future__ import annotations

from kinograph.api import Node, hookimpl
from kinograph.plugins.learned.action_generator import LSTMActionGenerator
from kinograph.plugins.learned.measure_node import MeasureMotion
from kinograph.plugins.learned.resnet_features import ResNetFeatures


@hookimpl
def kinograph_nodes() -> list[type[Node]]:
    return [ResNetFeatures, LSTMActionGenerator, MeasureMotion]
