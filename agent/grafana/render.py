"""Dashboard specs as importable Grafana dashboard JSON, built with grafana-foundation-sdk's
builders (types generated from Grafana's own schema), not hand-written JSON.

Every panel and query uses the `${datasource}` template variable, a data source variable of
type prometheus, so no data source uid of this machine is baked in. The file also carries
Grafana's sharing header (`__inputs`, `__requires`, as "Export for sharing externally" writes
it): the UI import asks for the Prometheus (DS_PROMETHEUS) and makes it the variable's value;
a provisioned file, where nothing fills the input, falls back to the default Prometheus.
"""

from __future__ import annotations

import json
import string
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
DS_INPUT = "DS_PROMETHEUS"
GRAFANA_VERSION = "11.6.0"  # the grafana-foundation-sdk flavour pinned in pyproject.toml
REF_IDS = string.ascii_uppercase
PANEL_NAMES = {"stat": "Stat", "timeseries": "Time series"}


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
    chosen = "${" + DS_INPUT + "}"  # filled in by Grafana's import
    variable = (gd.DatasourceVariable(DATASOURCE_VAR).label("Data source").type("prometheus")
                .description("The Prometheus that scrapes Alice and the alice-ops agent")
                .current(models.VariableOption(text=chosen, value=chosen)))
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
    return {**_sharing_header(spec), **document}


def _sharing_header(spec: DashboardSpec) -> dict[str, Any]:
    """`__inputs` / `__requires`: not part of the dashboard schema (so not in the SDK's
    model), read by Grafana's import only."""
    kinds = sorted({p.kind for p in spec.panels})
    return {
        "__inputs": [{"name": DS_INPUT, "label": "Prometheus", "type": "datasource",
                      "pluginId": "prometheus", "pluginName": "Prometheus",
                      "description": "The Prometheus that scrapes Alice and alice-agent"}],
        "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana",
                        "version": GRAFANA_VERSION},
                       {"type": "datasource", "id": "prometheus", "name": "Prometheus",
                        "version": "1.0.0"}]
                      + [{"type": "panel", "id": k, "name": PANEL_NAMES[k], "version": ""}
                         for k in kinds]}


def to_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
