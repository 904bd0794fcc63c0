-- The company attributes whose history is kept: one row per company, as the company lists give
-- it now. The runner keeps every earlier version (materialized: snapshot).
select
    symbol,
    company_name,
    sector,
    industry
from {{ ref('stg_companies') }}
