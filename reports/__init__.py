"""Reports (layer 4): the managers' dashboard and the monthly satisfaction report, reading every
department. Figures are defined once (reports.figures), aggregated in SQL, kept in daily
rollups by a beat job (reports.rollups), and packed monthly. See docs/architecture.md."""
