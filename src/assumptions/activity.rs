//! Activity relative to users: the shares that derive daily-active and peak-concurrent
//! users from `users.registered`, and the calls at the busiest moment from the peak, when a
//! plan does not set them (`Plan::daily_active_users`, `Plan::peak_concurrent_users`,
//! `Plan::concurrent_1to1_calls`, `Plan::group_call_rooms`).

use super::Assumption;

assumptions! {
    group ACTIVITY;
    DAILY_ACTIVE_SHARE = "daily-active-share", "Daily active users, as a share of registered users", 0.5, "ratio",
        "assumption: the seed's own ratio (its default plan: 5,000 daily active of 10,000 registered, docs/default-plan.md), not a published figure. No public Synapse source gives a share: Element's ESS Sizing (ems-docs.element.io, LTS 23.10) sizes by user band and counts media growth by \"active users\" without relating them to accounts, and Synapse's usage statistics report daily and monthly active users as measured, not as a share. Set your server's figure (Synapse's usage statistics report it as daily_active_users: docs, usage/administration/monitoring/reporting_homeserver_usage_statistics) or set activity.daily-active-users directly";
    PEAK_CONCURRENT_SHARE = "peak-concurrent-share", "Peak concurrent users, as a share of daily active users", 0.5, "ratio",
        "assumption: the seed's own ratio (its default plan: 2,500 at peak of 5,000 daily active, docs/default-plan.md), not a published figure; no public Synapse source relates concurrent syncing clients to daily active users. Set your server's figure (the clients syncing at the busiest hour) or set users.peak-concurrent directly";
    CALLS_1TO1_PER_PEAK_USER = "calls-1to1-per-peak-user", "Concurrent 1:1 calls per user at peak", 0.01, "calls",
        "assumption: the seed's own ratio (the default plan's 25 calls at 2,500 peak users, and the scale presets' 250 at 25,000), not a published figure; no public source gives a call rate for Matrix servers. Set your figure or calls.concurrent-1to1 directly";
    GROUP_ROOMS_PER_PEAK_USER = "group-rooms-per-peak-user", "Concurrent group calls (LiveKit rooms) per user at peak", 0.002, "rooms",
        "assumption: the seed's own ratio (the default plan's 5 rooms at 2,500 peak users, one per 500; the scale presets' 50 at 25,000), not a published figure. Set your figure or calls.group-rooms directly";
}
