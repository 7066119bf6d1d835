//! The network device: `isounik run -p HOST:GUEST` publishes a guest port on the host, and
//! programs in the guest serve connections from the host (busybox httpd forking a process
//! per connection), in both system-call entry modes.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::ISOUNIK;

/// A port free on the host right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The guest, killed when the test ends (whatever way it ends).
struct Guest(Child);

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.0 GET of `path` from the host: the whole response.
fn get(port: u16, path: &str) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(s, "GET {path} HTTP/1.0\r\n\r\n")?;
    let mut response = Vec::new();
    s.read_to_end(&mut response)?;
    Ok(response)
}

fn serves_the_host(entry: &str) {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    std::fs::write(dir.path().join("index.html"), "hello from Iso-UniK\n").unwrap();
    let guest = Guest(
        Command::new(ISOUNIK)
            .args(["run", "--timeout", "120", "--syscall-entry", entry])
            .arg("-p")
            .arg(format!("{port}:80"))
            .arg("--add")
            .arg(format!("{}:/www", dir.path().display()))
            .args(["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("isounik runs"),
    );
    // Until httpd listens in the guest (QEMU's forwarder takes the connection at once and
    // closes it while nobody listens behind it).
    let start = Instant::now();
    let first = loop {
        match get(port, "/index.html") {
            Ok(r) if !r.is_empty() => break r,
            _ if start.elapsed() > Duration::from_secs(60) => {
                panic!("the published port never answered ({entry} entry)")
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    let text = String::from_utf8_lossy(&first);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(text.ends_with("\r\n\r\nhello from Iso-UniK\n"), "{text}");
    // Twelve clients, three at a time: httpd forks a process for each connection. (More
    // at once can meet QEMU's user network, whose host side accepts connections with a
    // short listen queue and resets some under a burst.)
    for _ in 0..4 {
        let clients: Vec<_> = (0..3)
            .map(|_| std::thread::spawn(move || get(port, "/index.html")))
            .collect();
        for c in clients {
            let r = c.join().unwrap().expect("a concurrent GET");
            assert!(
                String::from_utf8_lossy(&r).ends_with("hello from Iso-UniK\n"),
                "{}",
                String::from_utf8_lossy(&r)
            );
        }
    }
    // A megabyte, byte for byte.
    let r = get(port, "/big.bin").expect("GET big.bin");
    let body = r
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| &r[i + 4..])
        .expect("a header");
    assert!(
        body == big.as_slice(),
        "big.bin came back different ({} bytes)",
        body.len()
    );
    drop(guest);
}

#[test]
fn published_port_serves_the_host_trap_entry() {
    serves_the_host("trap");
}

#[test]
fn published_port_serves_the_host_gate_entry() {
    serves_the_host("gate");
}

/// `--net`: a program in the guest connects out to a server on the host (10.0.2.2 on QEMU's
/// user network), and a port nobody serves is refused.
fn connects_out(entry: &str) {
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = server.local_addr().unwrap().port();
    let body: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let served = body.clone();
    std::thread::spawn(move || {
        for stream in server.incoming().take(1) {
            let mut s = stream.expect("accept");
            let mut request = [0u8; 1024];
            let _ = s.read(&mut request);
            let _ = write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
                served.len()
            );
            let _ = s.write_all(&served);
        }
    });
    let refused = free_port();
    let ran = common::isounik(&[
        "run",
        "--net",
        "--timeout",
        "120",
        "--syscall-entry",
        entry,
        "/bin/busybox",
        "sh",
        "-c",
        &format!(
            "wget -q -O /tmp/got http://10.0.2.2:{port}/ && wc -c < /tmp/got && md5sum < /tmp/got; \
             wget -q -O - http://10.0.2.2:{refused}/; echo \"refused: $?\""
        ),
    ]);
    let md5 = {
        let out = Command::new("md5sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().unwrap().write_all(&body)?;
                c.wait_with_output()
            })
            .expect("md5sum");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        ran.stdout(),
        format!("{}\n{md5}refused: 1\n", body.len()),
        "{}",
        ran.describe()
    );
    assert!(
        ran.stderr().contains("Connection refused"),
        "{}",
        ran.describe()
    );
}

#[test]
fn connects_out_to_the_host_trap_entry() {
    connects_out("trap");
}

#[test]
fn connects_out_to_the_host_gate_entry() {
    connects_out("gate");
}
