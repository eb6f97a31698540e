//! sift-client
