-- One row per sector named by the company lists.
select
    row_number() over (order by sector) as sector_id,
    sector,
    count(*) as company_count
from {{ ref('stg_companies') }}
group by sector
