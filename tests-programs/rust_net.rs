// A Rust program using only std: a TCP server on loopback with a thread per connection,
// clients on other threads, a Unix socket pair, UDP, and a child process fed through a
// pipe (std::process). Prints one "ok: ..." line per part.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::thread;

fn main() {
    if std::env::args().nth(1).as_deref() == Some("child") {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input).expect("stdin");
        print!("{}", input.len());
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = thread::spawn(move || {
        let mut handlers = Vec::new();
        for _ in 0..4 {
            let (stream, _) = listener.accept().expect("accept");
            handlers.push(thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                reader.read_line(&mut line).expect("read_line");
                let mut out = stream;
                out.write_all(line.to_uppercase().as_bytes()).expect("write");
            }));
        }
        for h in handlers {
            h.join().expect("handler");
        }
    });
    let clients: Vec<_> = (0..4)
        .map(|i| {
            thread::spawn(move || {
                let mut s = TcpStream::connect(addr).expect("connect");
                s.set_nodelay(true).expect("nodelay");
                writeln!(s, "client {i}").expect("send");
                let mut answer = String::new();
                s.read_to_string(&mut answer).expect("recv");
                assert_eq!(answer, format!("CLIENT {i}\n"));
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client");
    }
    server.join().expect("server");
    println!("ok: TCP server with a thread per connection answered 4 clients");

    let (mut a, mut b) = UnixStream::pair().expect("pair");
    a.write_all(b"over a unix socket").expect("write");
    a.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut got = String::new();
    b.read_to_string(&mut got).expect("read");
    assert_eq!(got, "over a unix socket");
    println!("ok: UnixStream pair");

    let rx = UdpSocket::bind("127.0.0.1:0").expect("udp bind");
    let tx = UdpSocket::bind("127.0.0.1:0").expect("udp bind");
    tx.send_to(b"datagram", rx.local_addr().unwrap()).expect("send_to");
    let mut buf = [0u8; 64];
    let (n, from) = rx.recv_from(&mut buf).expect("recv_from");
    assert_eq!(&buf[..n], b"datagram");
    assert_eq!(from, tx.local_addr().unwrap());
    println!("ok: UDP datagram with its sender's address");

    let exe = std::env::current_exe().expect("current_exe");
    let mut child = Command::new(exe)
        .arg("child")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(&[b'x'; 100_000]).expect("feed");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(out.stdout, b"100000");
    println!("ok: std::process child fed 100000 bytes through a pipe");
}
