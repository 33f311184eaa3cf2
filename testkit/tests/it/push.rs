use berth_testkit::image::media_type;
use berth_testkit::{
    busybox_image, push_image, push_index, Compression, Flavor, ImageSpec, LayerBuilder, Pusher, Registry,
};
use serde_json::{json, Value};

use crate::support::{skopeo_inspect, skopeo_inspect_output, skopeo_raw_bytes, strings};

fn small_layer(name: &str, contents: &str) -> Vec<u8> {
    let mut b = LayerBuilder::new();
    b.dir("data", 0o755).file(&format!("data/{name}"), contents, 0o644);
    b.build()
}

fn config_of(addr: &str, reference: &str) -> Value {
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--no-creds", "--config", "--raw"])
        .arg(format!("docker://{addr}/{reference}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn busybox_image_as_skopeo_sees_it() {
    let registry = Registry::start().unwrap();
    let pushed = push_image(registry.addr(), None, "busybox:latest", &busybox_image().unwrap()).await.unwrap();

    let inspect = skopeo_inspect(registry.addr(), "busybox:latest", false, None);
    assert_eq!(inspect["Digest"], pushed.manifest_digest.as_str());
    assert_eq!(strings(&inspect["Layers"]), pushed.layer_digests);
    assert_eq!(pushed.layer_digests.len(), 1);
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["Architecture"], berth_testkit::image::host_platform().0);
    assert!(strings(&inspect["Env"]).iter().any(|e| e.starts_with("PATH=") && e.contains("/bin")));

    let raw = skopeo_raw_bytes(registry.addr(), "busybox:latest");
    assert_eq!(raw, pushed.manifest);
    let raw: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(raw["mediaType"], media_type::OCI_MANIFEST);
    assert_eq!(raw["config"]["mediaType"], media_type::OCI_CONFIG);
    assert_eq!(raw["layers"][0]["mediaType"], media_type::OCI_LAYER_GZIP);
    let config = config_of(registry.addr(), "busybox:latest");
    assert_eq!(config["config"]["Cmd"], json!(["sh"]));
    assert_eq!(strings(&config["rootfs"]["diff_ids"]), pushed.diff_ids);
}

#[tokio::test]
async fn two_layers_zstd_and_uncompressed() {
    let registry = Registry::start().unwrap();
    let bottom = small_layer("a", "bottom\n");
    let mut top = LayerBuilder::new();
    top.whiteout("data/a").file("data/b", "top\n", 0o600);
    let top = top.build();
    let spec = ImageSpec::new()
        .layer(bottom.clone(), Compression::Zstd)
        .layer(top.clone(), Compression::None)
        .with_config(json!({
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo hi"],
            "WorkingDir": "/data",
            "User": "1000:1000",
            "Labels": {"org.example": "yes"},
            "ExposedPorts": {"80/tcp": {}},
            "StopSignal": "SIGINT",
        }));
    let pushed = push_image(registry.addr(), None, "layers/two:v1", &spec).await.unwrap();
    assert_eq!(pushed.diff_ids, [berth_testkit::sha256_digest(&bottom), berth_testkit::sha256_digest(&top)]);
    // the uncompressed layer's blob is the tar itself
    assert_eq!(pushed.layer_digests[1], pushed.diff_ids[1]);

    let inspect = skopeo_inspect(registry.addr(), "layers/two:v1", false, None);
    assert_eq!(inspect["Digest"], pushed.manifest_digest.as_str());
    assert_eq!(strings(&inspect["Layers"]), pushed.layer_digests);
    // skopeo 1.9 has no LayersData: read the media types from the raw manifest
    let raw: Value = serde_json::from_slice(&skopeo_raw_bytes(registry.addr(), "layers/two:v1")).unwrap();
    let types: Vec<&str> = raw["layers"].as_array().unwrap().iter().map(|l| l["mediaType"].as_str().unwrap()).collect();
    assert_eq!(types, [media_type::OCI_LAYER_ZSTD, media_type::OCI_LAYER]);
    assert_eq!(inspect["Labels"]["org.example"], "yes");

    let config = config_of(registry.addr(), "layers/two:v1");
    assert_eq!(strings(&config["rootfs"]["diff_ids"]), pushed.diff_ids);
    assert_eq!(config["history"].as_array().unwrap().len(), 2);
    assert_eq!(config["config"]["User"], "1000:1000");
    assert_eq!(config["config"]["StopSignal"], "SIGINT");
}

#[tokio::test]
async fn docker_flavor_image() {
    let registry = Registry::start().unwrap();
    let spec = ImageSpec::new()
        .flavor(Flavor::Docker)
        .layer(small_layer("a", "one\n"), Compression::Gzip)
        .layer(small_layer("b", "two\n"), Compression::None)
        .with_config(json!({"Cmd": ["true"]}));
    let pushed = push_image(registry.addr(), None, "docker/img:latest", &spec).await.unwrap();

    let raw: Value = serde_json::from_slice(&skopeo_raw_bytes(registry.addr(), "docker/img")).unwrap();
    assert_eq!(raw["mediaType"], media_type::DOCKER_MANIFEST);
    assert_eq!(raw["config"]["mediaType"], media_type::DOCKER_CONFIG);
    assert_eq!(raw["layers"][0]["mediaType"], media_type::DOCKER_LAYER_GZIP);
    assert_eq!(raw["layers"][1]["mediaType"], media_type::DOCKER_LAYER);

    let inspect = skopeo_inspect(registry.addr(), "docker/img:latest", false, None);
    assert_eq!(inspect["Digest"], pushed.manifest_digest.as_str());
    assert_eq!(strings(&inspect["Layers"]), pushed.layer_digests);
}

async fn check_index(flavor: Flavor) {
    let registry = Registry::start().unwrap();
    let amd64 = ImageSpec::new()
        .flavor(flavor)
        .platform("linux", "amd64", None)
        .layer(small_layer("arch", "amd64\n"), Compression::Gzip);
    let arm64 = ImageSpec::new()
        .flavor(flavor)
        .platform("linux", "arm64", Some("v8"))
        .layer(small_layer("arch", "arm64\n"), Compression::Gzip);
    let (digest, images) = push_index(registry.addr(), None, "multi:latest", &[amd64, arm64]).await.unwrap();
    assert_eq!(images.len(), 2);

    let raw_bytes = skopeo_raw_bytes(registry.addr(), "multi:latest");
    assert_eq!(berth_testkit::sha256_digest(&raw_bytes), digest);
    let raw: Value = serde_json::from_slice(&raw_bytes).unwrap();
    assert_eq!(raw["mediaType"], flavor.index_media_type());
    let manifests = raw["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2);
    assert_eq!(manifests[0]["digest"], images[0].manifest_digest.as_str());
    assert_eq!(manifests[0]["mediaType"], flavor.manifest_media_type());
    assert_eq!(manifests[0]["platform"], json!({"os": "linux", "architecture": "amd64"}));
    assert_eq!(manifests[1]["digest"], images[1].manifest_digest.as_str());
    assert_eq!(manifests[1]["platform"], json!({"os": "linux", "architecture": "arm64", "variant": "v8"}));

    // each platform image stands on its own, by digest
    for (image, arch) in images.iter().zip(["amd64", "arm64"]) {
        let by_digest = format!("multi@{}", image.manifest_digest);
        let inspect = skopeo_inspect(registry.addr(), &by_digest, false, None);
        assert_eq!(inspect["Architecture"], arch);
        assert_eq!(strings(&inspect["Layers"]), image.layer_digests);
    }
}

#[tokio::test]
async fn oci_index_with_two_platforms() {
    check_index(Flavor::Oci).await;
}

#[tokio::test]
async fn docker_manifest_list_with_two_platforms() {
    check_index(Flavor::Docker).await;
}

#[tokio::test]
async fn basic_auth_is_required_and_works() {
    let registry = Registry::start_with_basic_auth("berth", "s3cret").unwrap();
    assert_eq!(registry.credentials(), Some(("berth", "s3cret")));
    let spec = ImageSpec::new().layer(small_layer("x", "x\n"), Compression::Gzip);

    let anonymous = push_image(registry.addr(), None, "private:1", &spec).await;
    assert!(anonymous.is_err(), "an anonymous push must fail");
    let wrong = push_image(registry.addr(), Some(("berth", "wrong")), "private:1", &spec).await;
    assert!(wrong.is_err(), "a push with a wrong password must fail");

    let pushed = push_image(registry.addr(), Some(("berth", "s3cret")), "private:1", &spec).await.unwrap();
    let inspect = skopeo_inspect(registry.addr(), "private:1", false, Some("berth:s3cret"));
    assert_eq!(inspect["Digest"], pushed.manifest_digest.as_str());
    let denied = skopeo_inspect_output(registry.addr(), "private:1", false, None);
    assert!(!denied.status.success());
}

#[tokio::test]
async fn tampered_image_can_be_pushed() {
    // a config whose diff_ids lie: the registry stores it, the engine must refuse it
    let registry = Registry::start().unwrap();
    let spec = ImageSpec::new().layer(small_layer("x", "x\n"), Compression::Gzip);
    let built = spec.build().unwrap();
    let mut config: Value = serde_json::from_slice(&built.config).unwrap();
    config["rootfs"]["diff_ids"] = json!([format!("sha256:{}", "0".repeat(64))]);
    let tampered =
        berth_testkit::BuiltImage::from_parts(Flavor::Oci, serde_json::to_vec(&config).unwrap(), built.layers.clone());
    let pusher = Pusher::new(registry.addr(), None);
    let pushed = pusher.push_built("tampered:1", &tampered).await.unwrap();
    assert_ne!(pushed.manifest_digest, built.manifest_digest);
    let got = config_of(registry.addr(), "tampered:1");
    assert_eq!(got["rootfs"]["diff_ids"][0], format!("sha256:{}", "0".repeat(64)));

    // hostile layers go through untouched
    let mut evil = LayerBuilder::new();
    evil.raw(tar::EntryType::Regular, b"../evil", b"", b"pwned").raw(
        tar::EntryType::Link,
        b"passwd",
        b"../../etc/passwd",
        b"",
    );
    let evil = evil.build();
    let pushed = push_image(registry.addr(), None, "evil:1", &ImageSpec::new().layer(evil.clone(), Compression::None))
        .await
        .unwrap();
    assert_eq!(std::fs::read(registry.blob_path(&pushed.layer_digests[0])).unwrap(), evil);
}
