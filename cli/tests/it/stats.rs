//! `berth stats`: figures that move when a container works.

use serde_json::Value;

use crate::World;

fn stats(w: &World, name: &str) -> Value {
    let v: Value = serde_json::from_str(&w.ok(&["stats", "--no-stream", "--format", "json", name])).unwrap();
    v[0].clone()
}

#[test]
fn stats_show_cpu_memory_pids_and_network_that_move_with_the_work() {
    let w = World::new();
    w.push_busybox("busybox:latest");
    let img = w.image_ref("busybox:latest");
    w.ok(&["pull", "-q", &img]);
    w.ok(&["run", "-d", "--name", "busy", "-m", "64m", &img, "sh", "-c", "while :; do :; done"]);
    w.ok(&["run", "-d", "--name", "idle", &img, "sleep", "1000"]);

    // (a spinner gets what the machine spares: two cores shared with the other tests' work)
    let busy = stats(&w, "busy");
    assert!(busy["cpu"].as_f64().unwrap() > 5.0, "a spinning shell uses a CPU: {busy}");
    assert_eq!(busy["mem_limit"], 64 * 1024 * 1024);
    let idle = stats(&w, "idle");
    assert!(idle["cpu"].as_f64().unwrap() < 5.0, "sleep uses nothing: {idle}");
    assert!(busy["cpu"].as_f64().unwrap() > 4.0 * idle["cpu"].as_f64().unwrap().max(0.5), "busy {busy} vs idle {idle}");
    assert_eq!(idle["pids"], "1");
    let mem_before = idle["mem"].as_u64().unwrap();

    // Work: more processes, more memory, network traffic to the host (the gateway).
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let mut s = s;
            let _ = std::io::Write::write_all(&mut s, &vec![b'x'; 200_000]);
        }
    });
    let script = format!(
        "sleep 1000 & sleep 1000 & x=$(head -c 30000000 /dev/zero | tr '\\0' a); nc host.containers.internal {port} > /dev/null; sleep 1000"
    );
    w.ok(&["exec", "-d", "idle", "sh", "-c", &script]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let s = stats(&w, "idle");
        let pids: u64 = s["pids"].as_str().unwrap().parse().unwrap();
        let rx_ok = s["net_io"].as_str().unwrap().split(" / ").next().unwrap().ends_with("kB");
        if pids >= 4 && rx_ok && s["mem"].as_u64().unwrap() > mem_before {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stats did not move: {s}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let table = w.ok(&["stats", "--no-stream"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("busy") && table.contains("idle"), "{table}");
}
