"""leadscore pipeline: stages, configuration, command line and experiment tracking."""
