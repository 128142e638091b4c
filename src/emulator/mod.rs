//! A local, stateful imitation of the Segment Public API's access-management surface.
