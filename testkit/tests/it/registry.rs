use berth_testkit::{busybox_image, push_image, Registry};

use crate::support::skopeo_inspect;

#[test]
fn starts_answers_and_stops() {
    let mut registry = Registry::start().unwrap();
    assert!(registry.addr().starts_with("127.0.0.1:"));
    assert!(registry.is_running());
    registry.stop();
    assert!(!registry.is_running());
    assert!(std::net::TcpStream::connect(registry.addr()).is_err());
    registry.restart().unwrap();
    assert!(std::net::TcpStream::connect(registry.addr()).is_ok());
}

#[tokio::test]
async fn storage_survives_restart_and_blobs_can_be_found() {
    let mut registry = Registry::start().unwrap();
    let spec = busybox_image().unwrap();
    let pushed = push_image(registry.addr(), None, "keep:1", &spec).await.unwrap();

    let built = spec.build().unwrap();
    let stored = std::fs::read(registry.blob_path(&pushed.layer_digests[0])).unwrap();
    assert_eq!(stored, built.layers[0].blob);
    assert!(registry.storage_dir().join("docker/registry/v2/repositories/keep").is_dir());

    registry.restart().unwrap();
    let inspect = skopeo_inspect(registry.addr(), "keep:1", false, None);
    assert_eq!(inspect["Digest"], pushed.manifest_digest.as_str());
    // log level is error: a healthy run logs next to nothing
    assert!(!registry.log().contains("level=info"), "{}", registry.log());
}
