//! `berth build`: an image from a Containerfile (Dockerfile) and a build context, built by the
//! engine itself: RUN steps are its containers, COPY/ADD write into an overlay over the stage's
//! layers, every step's result is cached as an (intermediate) image.
mod builder;
mod context;
pub mod dockerfile;
pub mod ignore;
pub mod words;

pub use builder::{context_file, BuildEvent, BuildOptions, PullPolicy, BUILD_LABEL};
