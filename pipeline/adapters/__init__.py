"""Turn standard CRM exports (Salesforce, HubSpot) into the three contract tables and a vocabulary config.

Each vendor module maps that vendor's export frames to contract frames with pure pandas
functions; `exports` reads the export files, parses their values and writes the result.
"""
