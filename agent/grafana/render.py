"""Dashboard specs as importable Grafana dashboard JSON, built with grafana-foundation-sdk's
builders (types generated from Grafana's own schema), not hand-written JSON.

Every panel and query uses the `${datasource}` template variable, a data source variable of
type prometheus: on import the dashboard takes the default Prometheus data source and offers
every other one in a drop-down, so no data source uid of this machine is baked in.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig, ReduceDataOptions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from agent.grafana.spec import DashboardSpec, PanelSpec

DATASOURCE_VAR = "datasource"
DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${" + DATASOURCE_VAR + "}")
REF_IDS = "ABCDEFGHIJ"


def _thresholds(panel: PanelSpec) -> gd.ThresholdsConfig:
    steps = [models.Threshold(value=s.value, color=s.color) for s in panel.steps]
    return gd.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps)


def _panel(spec: PanelSpec, panel_id: int) -> Any:
    builder: Any
    if spec.kind == "timeseries":
        builder = timeseries.Panel()
        if spec.steps:
            builder = builder.thresholds_style(GraphThresholdsStyleConfig().mode(
                common.GraphThresholdsStyleMode.DASHED))
    else:
        builder = (stat.Panel().graph_mode(common.BigValueGraphMode.AREA)
                   .color_mode(common.BigValueColorMode.VALUE)
                   .reduce_options(ReduceDataOptions().calcs(["lastNotNull"])))
    builder = (builder.id(panel_id).title(spec.title).unit(spec.unit).datasource(DATASOURCE)
               .height(spec.height).span(spec.width))
    if spec.description:
        builder = builder.description(spec.description)
    if spec.min is not None:
        builder = builder.min(spec.min)
    if spec.max is not None:
        builder = builder.max(spec.max)
    if spec.steps:
        builder = builder.thresholds(_thresholds(spec))
    # a stat takes its colour from the steps; a graph keeps one colour per series and
    # draws the steps as dashed lines
    builder = builder.color_scheme(gd.FieldColor().mode(
        models.FieldColorModeId.THRESHOLDS if spec.kind == "stat" and spec.steps
        else models.FieldColorModeId.PALETTE_CLASSIC))
    if spec.mappings:
        builder = builder.mappings([models.ValueMap(options={
            str(value): models.ValueMappingResult(text=text, color=color, index=i)
            for i, (value, text, color) in enumerate(spec.mappings)})])
    for ref, query in zip(REF_IDS, spec.queries):
        builder = builder.with_target(prometheus.Dataquery().ref_id(ref).expr(query.expr)
                                      .legend_format(query.legend).datasource(DATASOURCE))
    return builder


def build(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard as a JSON-ready dict (the model the SDK builds, encoded)."""
    variable = (gd.DatasourceVariable(DATASOURCE_VAR).label("Data source").type("prometheus")
                .description("The Prometheus that scrapes Alice and the alice-ops agent"))
    board = (gd.Dashboard(spec.title).uid(spec.uid).description(spec.description)
             .tags(list(spec.tags)).time("now-6h", "now").refresh("30s").timezone("browser")
             .editable().with_variable(variable))
    panel_id = 0
    for row in spec.rows:
        panel_id += 1
        board = board.with_row(gd.Row(row.title).id(panel_id))
        for panel in row.panels:
            panel_id += 1
            board = board.with_panel(_panel(panel, panel_id))
    document: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
    return document


def to_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
