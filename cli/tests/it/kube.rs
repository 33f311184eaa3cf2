//! `kube play`, `kube down` and `kube generate`: a Pod and a Deployment from YAML (with a
//! ConfigMap, a PersistentVolumeClaim, a published port), what they make, a round trip
//! through `kube generate`, and YAML Berth can't play refused with nothing made.

use crate::World;

/// Berth's output, its last newline dropped.
fn ok(w: &World, args: &[&str]) -> String {
    w.ok(args).trim_end().to_string()
}

fn busybox(w: &World) -> String {
    w.push_busybox("busybox:latest");
    let r = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &r]);
    r
}

fn write(w: &World, name: &str, text: &str) -> String {
    let path = w.root().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_pod_and_a_deployment_play_and_go_down() {
    let w = World::new();
    let img = busybox(&w);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let yaml = format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{greeting: hello-from-configmap}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: shared-data}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {{app: web}}
spec:
  containers:
  - name: srv
    image: {img}
    command: [sh, -c, 'echo "$GREETING" > /data/said; exec nc -l -p 8000']
    env:
    - name: GREETING
      valueFrom: {{configMapKeyRef: {{name: settings, key: greeting}}}}
    ports: [{{containerPort: 8000, hostPort: {port}}}]
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes:
  - name: data
    persistentVolumeClaim: {{claimName: shared-data}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: workers}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: workers}}}}
  template:
    metadata: {{labels: {{app: workers}}}}
    spec:
      containers: [{{name: w, image: {img}, command: [sleep, "1000"]}}]
"#
    );
    let file = write(&w, "stack.yaml", &yaml);
    let out = ok(&w, &["kube", "play", &file]);
    assert!(out.starts_with("Volume:\nshared-data\nPod:\n"), "{out}");
    let pods = ok(&w, &["pod", "ps", "--format", "{{.Name}} {{.Status}}", "--sort", "name"]);
    assert_eq!(pods, "web Running\nworkers-pod-0 Running\nworkers-pod-1 Running");
    assert_eq!(ok(&w, &["inspect", "--format", "{{.State.Running}}", "web-srv"]), "true");
    // the ConfigMap's value reached the env, the claim is a named volume
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let said = w.root().join("volumes/shared-data/_data/said");
    while !said.exists() {
        assert!(std::time::Instant::now() < deadline, "the container never wrote to its volume");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&said).unwrap().trim(), "hello-from-configmap");
    assert_eq!(
        ok(&w, &["pod", "inspect", "web", "--format", "{{.InfraConfig.PortBindings}}"]),
        format!("map[8000/tcp:[{{ {port}}}]]")
    );
    // a second play without --replace is refused; with it, the pods are made again
    let err = w.fails(&["kube", "play", &file]);
    assert!(err.contains("already in use"), "{err}");
    ok(&w, &["kube", "play", "--replace", "--start=false", &file]);
    assert_eq!(ok(&w, &["pod", "inspect", "web", "--format", "{{.State}}"]), "Created");

    let down = ok(&w, &["kube", "down", &file]);
    assert!(down.starts_with("Pods stopped:"), "{down}");
    assert_eq!(ok(&w, &["pod", "ps", "-q"]), "");
    assert_eq!(ok(&w, &["ps", "-aq"]), "");
    assert_eq!(ok(&w, &["volume", "ls", "-q"]), "shared-data", "a claim's volume stays, as Podman's");
}

#[test]
fn generate_writes_yaml_that_plays_back() {
    let w = World::new();
    let img = busybox(&w);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    ok(&w, &["pod", "create", "--name", "gen", "-p", &format!("{port}:9000"), "--label", "team=blue"]);
    ok(
        &w,
        &[
            "create",
            "--pod",
            "gen",
            "--name",
            "gen-app",
            "-e",
            "MODE=test",
            "-v",
            "genvol:/store",
            &img,
            "sleep",
            "1000",
        ],
    );
    let yaml = ok(&w, &["kube", "generate", "gen"]);
    assert!(yaml.starts_with("# Save the output of this file"), "{yaml}");
    let v: serde_json::Value = serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(&yaml).unwrap()).unwrap();
    assert_eq!(v["kind"], "Pod");
    assert_eq!(v["metadata"]["name"], "gen");
    assert_eq!(v["metadata"]["labels"]["team"], "blue");
    let c = &v["spec"]["containers"][0];
    assert_eq!(c["name"], "app", "the pod's prefix is taken off the container's name");
    assert_eq!(c["args"], serde_json::json!(["sleep", "1000"]));
    assert_eq!(c["env"][0], serde_json::json!({"name": "MODE", "value": "test"}));
    assert_eq!(c["ports"][0]["hostPort"], port);
    assert_eq!(v["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"], "genvol");

    // played back, it is the same pod
    ok(&w, &["pod", "rm", "-f", "gen"]);
    let file = write(&w, "gen.yaml", &yaml);
    ok(&w, &["kube", "play", &file]);
    assert_eq!(ok(&w, &["inspect", "--format", "{{.State.Running}}", "gen-app"]), "true");
    let env = ok(&w, &["exec", "gen-app", "sh", "-c", "echo $MODE"]);
    assert_eq!(env, "test");
    ok(&w, &["kube", "down", &file]);
}

#[test]
fn yaml_berth_cant_play_is_refused_and_makes_nothing() {
    let w = World::new();
    let img = busybox(&w);
    let service = write(&w, "svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
    let err = w.fails(&["kube", "play", &service]);
    assert!(err.contains("kind Service is not supported"), "{err}");
    // the second container can't be made: the pod goes with the first
    let bad = write(
        &w,
        "bad.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: half}}\nspec:\n  containers:\n  - {{name: a, image: {img}, command: [sleep, '100']}}\n  - {{name: b, image: {img}, securityContext: {{capabilities: {{add: [NOT_A_CAP]}}}}}}\n"
        ),
    );
    let err = w.fails(&["kube", "play", &bad]);
    assert!(err.contains("container b") && err.contains("NOT_A_CAP"), "{err}");
    assert_eq!(ok(&w, &["pod", "ps", "-q"]), "");
    assert_eq!(ok(&w, &["ps", "-aq"]), "");
    let err = w.fails(&["kube", "play", "--annotation", &format!("k={}", "x".repeat(64)), &bad]);
    assert!(err.contains("annotation exceeds maximum size, 63"), "{err}");
}
