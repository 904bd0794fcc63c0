-- One row per industry named by the company lists, under its sector.
select
    row_number() over (order by sector, industry) as industry_id,
    industry,
    sector,
    count(*) as company_count
from {{ ref('stg_companies') }}
where industry is not null
group by sector, industry
