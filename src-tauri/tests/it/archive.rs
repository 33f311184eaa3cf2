//! Images and containers to and from files, as the Images and Containers pages do it: save an
//! image and load it back after removing it, export a container and import its tarball, an
//! image's history and inspect; over `--serve` and through the window's IPC; bad input leaves
//! nothing behind.

use serde_json::{json, Value};

use crate::http::{post, start};
use crate::World;
use berth_desktop::serve::Assets;

/// The names of a tar's entries.
fn entries(path: &std::path::Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    tar::Archive::new(f).entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_an_image_remove_it_and_load_it_back() {
    let w = World::new().await;
    let id = w.pull_busybox().await;
    let s = start(&w, Assets::Embedded).await;
    let out = w.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let call = |command: &'static str, body: Value| post(&s, command, Some(&s.token), body);

    let docker = out.join("busybox.tar");
    let (status, v) =
        call("save_image", json!({"id": w.busybox(), "path": docker.to_str().unwrap(), "format": "docker-archive"}))
            .await;
    assert_eq!((status, &v), (200, &Value::Null));
    assert!(entries(&docker).iter().any(|e| e == "manifest.json"), "{:?}", entries(&docker));
    let oci = out.join("busybox-oci.tar");
    let (status, v) =
        call("save_image", json!({"id": id, "path": oci.to_str().unwrap(), "format": "oci-archive"})).await;
    assert_eq!(status, 200, "{v}");
    assert!(entries(&oci).iter().any(|e| e == "index.json"), "{:?}", entries(&oci));

    // bad input: a relative path, a missing directory, an unknown format, a missing image; no file made
    let (status, e) = call("save_image", json!({"id": id, "path": "busybox.tar", "format": "docker-archive"})).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("busybox.tar: give an absolute path"), "{e}");
    let nowhere = out.join("nosuch/b.tar");
    let (status, e) =
        call("save_image", json!({"id": id, "path": nowhere.to_str().unwrap(), "format": "docker-archive"})).await;
    assert_eq!(status, 500, "{e}");
    assert!(e["message"].as_str().unwrap().contains("nosuch/b.tar"), "{e}");
    let (status, e) =
        call("save_image", json!({"id": id, "path": out.join("x.tar").to_str().unwrap(), "format": "zip"})).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = call(
        "save_image",
        json!({"id": "nosuch:1", "path": out.join("x.tar").to_str().unwrap(), "format": "docker-archive"}),
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");
    assert_eq!(files(&out), ["busybox-oci.tar", "busybox.tar"]);

    // removed, then loaded back under its name with the same id
    let (status, _) = call("remove_image", json!({"id": id, "force": false})).await;
    assert_eq!(status, 200);
    assert_eq!(w.engine.images().unwrap().len(), 0);
    let (status, loaded) = call("load_image", json!({"path": docker.to_str().unwrap()})).await;
    assert_eq!(status, 200, "{loaded}");
    assert_eq!(loaded, json!([{"id": id, "names": [w.busybox()]}]));
    let (_, images) = call("list_images", json!({})).await;
    assert_eq!(images[0]["id"], id.as_str());

    let (status, e) = call("load_image", json!({"path": out.join("nosuch.tar").to_str().unwrap()})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");
    let not_an_archive = out.join("notes.txt");
    std::fs::write(&not_an_archive, "hello").unwrap();
    let (status, e) = call("load_image", json!({"path": not_an_archive.to_str().unwrap()})).await;
    assert_ne!(status, 200, "{e}");
    assert!(e["message"].as_str().unwrap().contains("notes.txt"), "{e}");
    assert_eq!(w.engine.images().unwrap().len(), 1);
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_a_container_import_the_tarball_and_read_its_history() {
    let w = World::new().await;
    let id = w.pull_busybox().await;
    let opts =
        berth_engine::CreateOptions { name: Some("src".into()), command: vec!["true".into()], ..Default::default() };
    w.engine.create_container(&w.busybox(), opts).unwrap();
    let s = start(&w, Assets::Embedded).await;
    let out = w.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let call = |command: &'static str, body: Value| post(&s, command, Some(&s.token), body);

    // the busybox image's history and inspect
    let (status, history) = call("image_history", json!({"reference": w.busybox()})).await;
    assert_eq!(status, 200, "{history}");
    let rows = history.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{history}");
    assert_eq!(rows[0]["createdBy"], "berth-testkit layer 1");
    assert_eq!(rows[0]["emptyLayer"], false);
    let image = w.engine.image(&id).unwrap();
    assert_eq!(rows[0]["size"], image.layers[0].size);
    let (status, inspect) = call("inspect_image", json!({"reference": id})).await;
    assert_eq!(status, 200, "{inspect}");
    assert_eq!((&inspect["Id"], &inspect["Config"]["Cmd"]), (&json!(id), &json!(["sh"])));
    assert_eq!(inspect["RepoTags"], json!([w.busybox()]));
    let (status, e) = call("image_history", json!({"reference": "nosuch:1"})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");

    // export
    let tarball = out.join("src.tar");
    let (status, v) = call("export_container", json!({"id": "src", "path": tarball.to_str().unwrap()})).await;
    assert_eq!((status, &v), (200, &Value::Null));
    let listed = entries(&tarball);
    assert!(listed.iter().any(|e| e == "bin/busybox") && listed.iter().any(|e| e == "etc/passwd"), "{listed:?}");
    let (status, e) =
        call("export_container", json!({"id": "nosuch", "path": out.join("nosuch.tar").to_str().unwrap()})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");
    assert_eq!(files(&out), ["src.tar"], "nothing half-written");

    // import, named, with a CMD
    let (status, img) = call(
        "import_image",
        json!({"path": tarball.to_str().unwrap(), "reference": "imported:1", "changes": ["CMD [\"cat\", \"/etc/passwd\"]", " "], "message": "from src"}),
    )
    .await;
    assert_eq!(status, 200, "{img}");
    assert_eq!((img["names"].clone(), img["inUse"].clone()), (json!(["localhost/imported:1"]), json!(false)));
    let (_, details) = call("image_details", json!({"reference": "imported:1"})).await;
    assert_eq!(details["cmd"], json!(["cat", "/etc/passwd"]));
    let (_, history) = call("image_history", json!({"reference": "imported:1"})).await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["comment"], "from src");
    assert!(history[0]["size"].as_u64().unwrap() > 0, "{history}");
    // nameless: blank fields are no name, no message
    let (status, nameless) =
        call("import_image", json!({"path": tarball.to_str().unwrap(), "reference": "  ", "message": ""})).await;
    assert_eq!((status, nameless["names"].clone()), (200, json!([])), "{nameless}");

    // bad input: nothing new in the store
    let before = w.engine.images().unwrap().len();
    let notes = out.join("notes.txt");
    std::fs::write(&notes, "not a tar").unwrap();
    let (status, e) = call("import_image", json!({"path": notes.to_str().unwrap()})).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("is not a tar archive"), "{e}");
    let (status, e) = call("import_image", json!({"path": tarball.to_str().unwrap(), "changes": ["FROM x"]})).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = call("import_image", json!({"path": out.join("nosuch.tar").to_str().unwrap()})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("nosuch.tar: can't open the tarball"), "{e}");
    assert_eq!(w.engine.images().unwrap().len(), before);
    s.stop();
}
