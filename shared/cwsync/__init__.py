"""cwsync: keeps ConnectWise Manage agreements in step with a reseller marketplace."""
