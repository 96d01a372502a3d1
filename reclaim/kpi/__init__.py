"""The managers' numbers: KPIs, the dashboard, denial trends and the Pareto of reasons."""
