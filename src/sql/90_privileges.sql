-- Functions are callable by samegoal_app only, as each feature grants them;
-- internal helpers by nobody but their owner.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
