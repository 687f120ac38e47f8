"""Stage 2 of the cycle: analysis of results (item analysis, standard reports, problem fields, objectivity)."""
