"""The analytics service's HTTP API: KPIs as JSON and a server-rendered dashboard."""
