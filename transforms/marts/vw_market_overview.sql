-- Market breadth and totals per trading day, newest first when ordered by trade_date desc.
select
    trade_date,
    traded_symbols,
    advancers,
    decliners,
    traded_symbols - advancers - decliners as unchanged,
    total_volume,
    total_turnover_egp
from {{ ref('stg_market_stats') }}
