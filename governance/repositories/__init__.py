"""All SQL of the domain lives in these modules; routers, CLI commands and domain rules call them."""
