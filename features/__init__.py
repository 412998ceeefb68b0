"""leadscore features: the CRM data contract, loaders, point-in-time feature builders and labels."""
