"""leadscore models: the points-table baseline, the calibrated LightGBM model and explanations."""
