-- The symbol-days whose vendors disagree on the close by more than 2%, ranked worst first.
select
    rank() over (order by max_relative_diff desc, trade_date desc, symbol) as disagreement_rank,
    symbol,
    trade_date,
    source_count,
    min_close_source,
    min_close,
    max_close_source,
    max_close,
    max_relative_diff * 100 as max_relative_diff_pct
from {{ ref('gold_fct_vendor_price_comparison') }}
where max_relative_diff > 0.02
