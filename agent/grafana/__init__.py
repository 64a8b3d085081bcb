"""The operations guide's Grafana dashboards, for publishing the cycle's series: specs as
data (`spec`, `dashboards`), rendered with grafana-foundation-sdk (`render`), written by
`export` for `alice-ops grafana export`."""
