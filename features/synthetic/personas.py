"""Declare the hidden personas of the synthetic CRM: who they are and how they behave.

Each persona has a share of the leads, distributions of the explicit attributes a CRM
records, a daily Markov chain over buying states and activity rates per state. The chain
depends on the persona only (not on the date), so the true probability of a win within a
horizon is an exact matrix power: tests can compare a trained model with that oracle.
"""

from __future__ import annotations

import numpy as np

STATES: tuple[str, ...] = ("cold", "warm", "hot", "opportunity", "won", "lost")
COLD, WARM, HOT, OPPORTUNITY, WON, LOST = range(6)
OPEN_STATES = (COLD, WARM, HOT, OPPORTUNITY)

PERSONAS: tuple[str, ...] = ("ideal_fit", "engaged_researcher", "tyre_kicker", "dormant", "student", "competitor")
PERSONA_SHARES = np.array([0.12, 0.20, 0.30, 0.28, 0.06, 0.04])

SENIORITIES = ("c_level", "vp", "director", "manager", "individual", "student")
# rows: persona; columns: SENIORITIES
SENIORITY_MIX = np.array([
    [0.20, 0.30, 0.30, 0.17, 0.03, 0.00],
    [0.05, 0.10, 0.25, 0.35, 0.25, 0.00],
    [0.02, 0.03, 0.08, 0.22, 0.65, 0.00],
    [0.05, 0.08, 0.15, 0.30, 0.42, 0.00],
    [0.00, 0.00, 0.00, 0.00, 0.10, 0.90],
    [0.05, 0.10, 0.20, 0.35, 0.30, 0.00],
])
DEPARTMENTS = ("it", "marketing", "sales", "finance", "operations", "hr", "engineering")
# the buyers of lead scoring sit in marketing and sales operations
DEPARTMENT_MIX = np.array([
    [0.05, 0.50, 0.35, 0.02, 0.05, 0.01, 0.02],
    [0.10, 0.35, 0.25, 0.05, 0.10, 0.05, 0.10],
    [0.20, 0.15, 0.10, 0.15, 0.15, 0.10, 0.15],
    [0.15, 0.20, 0.15, 0.15, 0.15, 0.10, 0.10],
    [0.20, 0.20, 0.10, 0.10, 0.10, 0.10, 0.20],
    [0.10, 0.40, 0.30, 0.05, 0.05, 0.05, 0.05],
])
INDUSTRIES = ("software", "manufacturing", "retail", "financial_services", "healthcare", "education", "logistics", "media")
# ideal fits cluster in the industries the product serves
INDUSTRY_MIX = np.array([
    [0.35, 0.25, 0.10, 0.15, 0.10, 0.00, 0.05, 0.00],
    [0.25, 0.15, 0.15, 0.15, 0.10, 0.05, 0.10, 0.05],
    [0.15, 0.10, 0.20, 0.10, 0.10, 0.15, 0.10, 0.10],
    [0.15, 0.15, 0.15, 0.10, 0.15, 0.10, 0.10, 0.10],
    [0.05, 0.05, 0.05, 0.05, 0.05, 0.70, 0.00, 0.05],
    [1.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
])
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "CA", "AU", "IN", "BR", "ES")
COUNTRY_SHARES = np.array([0.38, 0.12, 0.11, 0.07, 0.05, 0.07, 0.05, 0.07, 0.04, 0.04])
SOURCES = ("organic", "paid_search", "referral", "event", "purchased_list", "partner")
SOURCE_MIX = np.array([
    [0.25, 0.15, 0.25, 0.20, 0.02, 0.13],
    [0.35, 0.25, 0.10, 0.15, 0.05, 0.10],
    [0.25, 0.35, 0.05, 0.05, 0.25, 0.05],
    [0.15, 0.20, 0.05, 0.10, 0.45, 0.05],
    [0.45, 0.35, 0.02, 0.10, 0.05, 0.03],
    [0.50, 0.30, 0.00, 0.15, 0.00, 0.05],
])
# log10 of company size: mean and spread per persona
COMPANY_SIZE_LOG10 = np.array([[3.2, 0.45], [2.6, 0.6], [1.6, 0.7], [2.1, 0.8], [1.0, 0.8], [2.7, 0.5]])
PERSONAL_EMAIL_SHARE = np.array([0.03, 0.10, 0.40, 0.25, 0.85, 0.05])
BAD_ADDRESS_SHARE = 0.03
PERSONAL_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com")
COMPETITORS = ("Scorely Inc", "LeadRank GmbH", "FunnelIQ Ltd")

# Daily transition probabilities between open states, per persona.
#            cold->warm warm->hot warm->cold hot->opp hot->warm opp->won opp->lost
_RATES = np.array([
    [0.020, 0.030, 0.020, 0.045, 0.040, 0.025, 0.010],  # ideal_fit
    [0.020, 0.015, 0.030, 0.018, 0.050, 0.015, 0.015],  # engaged_researcher
    [0.012, 0.010, 0.045, 0.004, 0.070, 0.006, 0.025],  # tyre_kicker
    [0.002, 0.006, 0.060, 0.010, 0.060, 0.012, 0.015],  # dormant
    [0.010, 0.006, 0.050, 0.000, 0.080, 0.000, 0.030],  # student
    [0.015, 0.010, 0.040, 0.000, 0.060, 0.000, 0.030],  # competitor
])


def transition_matrices() -> np.ndarray:
    """Return the daily transition matrices, shape (persona, from_state, to_state)."""
    mats = np.zeros((len(PERSONAS), len(STATES), len(STATES)))
    for p, (cw, wh, wc, ho, hw, ow, ol) in enumerate(_RATES):
        mats[p, COLD, WARM] = cw
        mats[p, WARM, HOT] = wh
        mats[p, WARM, COLD] = wc
        mats[p, HOT, OPPORTUNITY] = ho
        mats[p, HOT, WARM] = hw
        mats[p, OPPORTUNITY, WON] = ow
        mats[p, OPPORTUNITY, LOST] = ol
        mats[p, WON, WON] = 1.0
        mats[p, LOST, LOST] = 1.0
        for s in OPEN_STATES:
            mats[p, s, s] = 1.0 - mats[p, s].sum()
    return mats


# Expected events per day in each open state (cold, warm, hot, opportunity), per type.
# Lead-initiated behaviour; email sends and their opens/clicks are simulated per campaign.
ACTIVITY_RATES: dict[str, tuple[float, float, float, float]] = {
    "web_visit": (0.02, 0.20, 0.90, 0.40),
    "content_download": (0.002, 0.030, 0.080, 0.020),
    "form_submit": (0.001, 0.010, 0.060, 0.020),
    "webinar_registered": (0.002, 0.020, 0.030, 0.005),
    "webinar_attended": (0.001, 0.012, 0.020, 0.004),
    "event_attended": (0.0005, 0.004, 0.010, 0.006),
    "demo_request": (0.0, 0.001, 0.030, 0.004),
    "sales_call": (0.0, 0.0, 0.020, 0.150),
    "meeting": (0.0, 0.0, 0.005, 0.080),
}
# How active each persona is overall (students browse a lot and buy nothing).
PERSONA_ACTIVITY = np.array([1.0, 1.3, 1.0, 0.6, 1.4, 1.1])
OPEN_PROBABILITY = np.array([0.05, 0.25, 0.45, 0.35])  # per state
CLICK_GIVEN_OPEN = np.array([0.15, 0.30, 0.40, 0.30])
UNSUBSCRIBE_PROBABILITY = np.array([0.006, 0.002, 0.0005, 0.0002])
PERSONA_UNSUBSCRIBE = np.array([0.5, 0.7, 1.8, 1.5, 1.0, 0.5])
# some people never open marketing email at all
NEVER_OPENS_SHARE = np.array([0.15, 0.20, 0.40, 0.50, 0.30, 0.30])

# The "events" segment (`generate_crm(segments="events")`): buyers in continental Europe show intent
# offline, at trade fairs and webinars, which rise steeply towards a deal, while their email and
# web behaviour (visits, downloads, forms, demo requests) is colleagues' research: as busy in a cold state as in a hot one, a little less
# when the buyer is hot. They convert as often as anyone, so a global model learns email and the
# web from the other leads and has no base rate pulling it to split on the country first.
EVENT_BUYER_COUNTRIES = ("DE", "FR", "NL", "ES")
EVENT_BUYER_RATES: dict[str, tuple[float, float, float, float]] = {
    "web_visit": (0.40, 0.35, 0.30, 0.30),
    "content_download": (0.030, 0.030, 0.020, 0.020),
    "form_submit": (0.015, 0.015, 0.010, 0.010),
    "demo_request": (0.004, 0.004, 0.003, 0.003),
    "webinar_registered": (0.002, 0.030, 0.120, 0.030),
    "webinar_attended": (0.002, 0.020, 0.100, 0.020),
    "event_attended": (0.001, 0.030, 0.150, 0.050),
}
EVENT_BUYER_OPEN_PROBABILITY = np.array([0.40, 0.35, 0.20, 0.20])  # per state
EVENT_BUYER_CLICK_GIVEN_OPEN = np.array([0.35, 0.30, 0.20, 0.20])
