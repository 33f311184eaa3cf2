//! `berth build`: an image from a Containerfile (Dockerfile) and a build context.
pub mod dockerfile;
pub mod ignore;
pub mod words;
