"""Whether an initiative delivers: KPI measurements, experiments and their looks, costs and benefits,
evidence files, the monthly value reviews with their exit criteria, and the portfolio dashboard."""
