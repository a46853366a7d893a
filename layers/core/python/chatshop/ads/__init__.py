"""Shop Ads: merchants' campaigns, the ad decision, budgets and pacing, and the scheduled refresh.

Campaigns live in the ads table (``campaign_store``); the refresh job builds a decision snapshot in
the ads bucket (``snapshot``) from them; every decision reads that snapshot, reloaded by ETag, plus
at most one read of the user's consent, profile and caps.
"""
