"""A tiny hand-written CRM whose features are worked out by hand in test_golden.py."""

from __future__ import annotations

import pandas as pd


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three leads: an engaged VP, a student with a gmail address, a quiet manager who unsubscribed."""
    leads = pd.DataFrame({
        "lead_id": ["A", "B", "C"],
        "created_at": [ts("2024-01-01"), ts("2024-02-01"), ts("2024-01-15")],
        "email": ["ann@acme.com", "bob@gmail.com", "cy@beta.io"],
        "job_title": ["VP Marketing", "Student", "IT Manager"],
        "seniority": ["vp", "student", "manager"],
        "department": ["marketing", None, "it"],
        "company_name": ["Acme", None, "Beta"],
        "company_size": pd.array([500, None, 40], dtype="Int64"),
        "industry": ["software", "education", "retail"],
        "country": ["us", "DE", "FR"],
        "lead_source": ["Referral", "organic", "paid_search"],
    })
    rows = [
        # lead A
        ("A", "2024-02-01T10:00Z", "email_sent", None), ("A", "2024-02-01T12:00Z", "email_open", None),
        ("A", "2024-02-08T10:00Z", "email_sent", None), ("A", "2024-02-15T10:00Z", "email_sent", None),
        ("A", "2024-02-20T09:00Z", "web_visit", 100.0), ("A", "2024-02-25T09:00Z", "web_visit", 50.0),
        ("A", "2024-02-25T09:30Z", "content_download", None), ("A", "2024-02-27T15:00Z", "webinar_attended", None),
        ("A", "2024-02-28T11:00Z", "event_attended", None),
        ("A", "2024-03-01T00:00Z", "demo_request", None),      # exactly at the first as_of: invisible to it
        ("A", "2024-03-10T10:00Z", "web_visit", 30.0),
        # lead B
        ("B", "2024-02-05T10:00Z", "email_sent", None), ("B", "2024-02-12T10:00Z", "email_sent", None),
        ("B", "2024-02-19T10:00Z", "email_sent", None), ("B", "2024-02-26T10:00Z", "email_sent", None),
        ("B", "2024-02-10T10:00Z", "web_visit", 20.0),
        # lead C
        ("C", "2024-01-20T10:00Z", "email_sent", None), ("C", "2024-01-20T11:00Z", "email_open", None),
        ("C", "2024-01-21T10:00Z", "unsubscribe", None), ("C", "2024-01-25T10:00Z", "web_visit", 10.0),
    ]
    activities = pd.DataFrame({
        "lead_id": [r[0] for r in rows],
        "occurred_at": [ts(r[1]) for r in rows],
        "activity_type": [r[2] for r in rows],
        "channel": ["offline" if r[2] in {"event_attended", "sales_call", "meeting"} else "online" for r in rows],
        "value": [r[3] for r in rows],
        "asset_id": [None] * len(rows),
    })
    opportunities = pd.DataFrame({
        "opportunity_id": ["O1"],
        "lead_id": ["A"],
        "created_at": [ts("2024-03-05T10:00Z")],
        "closed_at": [ts("2024-04-20T10:00Z")],
        "outcome": ["won"],
        "amount": [10000.0],
    })
    return leads, activities, opportunities
