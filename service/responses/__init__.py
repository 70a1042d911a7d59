"""Response times: when the page first answered each customer comment, counted in service hours,
measured against the promise; what is still waiting; ``response.overdue`` when a promise breaks."""
