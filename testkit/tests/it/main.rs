//! The testkit's one integration test binary: a real `docker-registry`, pushes with
//! `oci-client`, and skopeo as the independent judge of what the registry stored.

mod cli;
mod layers;
mod push;
mod registry;
mod support;
mod token;
