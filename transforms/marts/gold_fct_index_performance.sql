-- One row per index and trading day: the official level from the index level files next to a
-- level built from the members' bars, weighted by their published index weights (equal weights
-- when none are published), with each one's change and their tracking difference: the members'
-- weighted return against the official level's.
-- Each day uses the membership snapshot in effect (latest as-of date on or before it); days before
-- the first snapshot use the first one. A day has a row when either level exists.
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
        p.close_price,
        -- The member's previous bar, when it comes from the same vendor: vendors' prices of one
        -- day can differ by a split or bonus adjustment, which is no return.
        case
            when lag(p.data_source) over (partition by s.index_code, m.symbol order by p.trade_date) = p.data_source
                then lag(p.close_price) over (partition by s.index_code, m.symbol order by p.trade_date)
        end as prev_close
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
        sum(weight * close_price) / sum(weight) as index_close,
        -- The members' own returns since their previous bar, weighted: a member starting or
        -- stopping to trade moves the average price, not this.
        sum(case when prev_close is not null then weight * (close_price / prev_close - 1) end)
            / sum(case when prev_close is not null then weight end) * 100 as constituent_return_pct
    from member_bars
    group by index_code, trade_date
),

weighted as (
    select
        daily.*,
        index_close - lag(index_close) over (partition by index_code order by trade_date) as index_change,
        (index_close - lag(index_close) over (partition by index_code order by trade_date))
            / lag(index_close) over (partition by index_code order by trade_date) * 100 as index_change_pct
    from daily
),

official as (
    select
        index_code,
        trade_date,
        data_source as official_source,
        close_level as official_close,
        (close_level - lag(close_level) over (partition by index_code order by trade_date))
            / lag(close_level) over (partition by index_code order by trade_date) * 100 as official_change_pct
    from {{ ref('stg_index_levels') }}
),

joined as (
    select
        coalesce(w.index_code, o.index_code) as index_code,
        coalesce(w.trade_date, o.trade_date) as trade_date,
        w.constituent_count,
        w.index_open,
        w.index_high,
        w.index_low,
        w.index_close,
        w.index_change,
        w.index_change_pct,
        w.constituent_return_pct,
        o.official_source,
        o.official_close,
        o.official_change_pct
    from weighted w
    full outer join official o on o.index_code = w.index_code and o.trade_date = w.trade_date
),

-- The first day with both levels: from there the members' returns are chained onto the official level.
base as (
    select index_code, trade_date as base_date, official_close as base_official_close
    from (
        select
            index_code,
            trade_date,
            official_close,
            row_number() over (partition by index_code order by trade_date) as n
        from joined
        where index_close is not null and official_close is not null
    ) b
    where n = 1
),

chained as (
    select
        j.*,
        b.base_date,
        b.base_official_close * exp(sum(
            case when j.trade_date > b.base_date then ln(1 + coalesce(j.constituent_return_pct, 0) / 100) else 0 end
        ) over (partition by j.index_code order by j.trade_date rows between unbounded preceding and current row))
            as chained_close
    from joined j
    left join base b on b.index_code = j.index_code
)

select
    index_code,
    trade_date,
    constituent_count,
    index_open,
    index_high,
    index_low,
    index_close,
    index_change,
    index_change_pct,
    constituent_return_pct,
    official_source,
    official_close,
    official_change_pct,
    constituent_return_pct - official_change_pct as tracking_difference_pct,
    case when trade_date >= base_date then base_date end as rebase_date,
    case when trade_date >= base_date and index_close is not null then chained_close end as index_close_rebased,
    case when trade_date >= base_date and index_close is not null
        then (chained_close / official_close - 1) * 100 end as cumulative_tracking_difference_pct
from chained
