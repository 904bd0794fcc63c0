-- One row per index and trading day: a level built from the members' bars, weighted by their
-- published index weights (equal weights when none are published), with change and member count.
-- Each day uses the membership snapshot in effect (latest as-of date on or before it); days before
-- the first snapshot use the first one.
with members as (
    select * from {{ ref('stg_index_membership') }}
),

snapshots as (
    select
        index_code,
        as_of_date,
        lead(as_of_date) over (partition by index_code order by as_of_date) as next_as_of_date,
        row_number() over (partition by index_code order by as_of_date) as snapshot_number
    from (select distinct index_code, as_of_date from members) s
),

member_bars as (
    select
        s.index_code,
        p.trade_date,
        coalesce(m.weight_pct, 1) as weight,
        coalesce(p.open_price, p.close_price) as open_price,
        p.high_price,
        p.low_price,
        p.close_price
    from snapshots s
    join members m on m.index_code = s.index_code and m.as_of_date = s.as_of_date
    join {{ ref('stg_stock_prices_unified') }} p on p.symbol = m.symbol
    where (p.trade_date >= s.as_of_date or s.snapshot_number = 1)
      and (s.next_as_of_date is null or p.trade_date < s.next_as_of_date)
),

daily as (
    select
        index_code,
        trade_date,
        count(*) as constituent_count,
        sum(weight * open_price) / sum(weight) as index_open,
        sum(weight * high_price) / sum(weight) as index_high,
        sum(weight * low_price) / sum(weight) as index_low,
        sum(weight * close_price) / sum(weight) as index_close
    from member_bars
    group by index_code, trade_date
)

select
    daily.*,
    index_close - lag(index_close) over (partition by index_code order by trade_date) as index_change,
    (index_close - lag(index_close) over (partition by index_code order by trade_date))
        / lag(index_close) over (partition by index_code order by trade_date) * 100 as index_change_pct
from daily
