namespace Glance.Engine.Checkpoints;

/// <summary>
/// Reads a file range in large sequential reads on a background thread, at most <c>window</c> bytes ahead of what
/// the loader reports as consumed, and drops the bytes: the page cache keeps them, so the loader's own reads (one per
/// tensor, many of them small) find them there. Disk reads then overlap the copies into parameters instead of
/// alternating with them, and small tensors no longer pay a disk round trip each. The window bounds how far ahead it
/// reads, so that on a host whose memory just holds the model the prefetched pages are not reclaimed before use.
/// </summary>
public sealed class ReadAhead : IDisposable
{
    const int ChunkBytes = 8 << 20;

    readonly long _end;
    readonly long _window;
    readonly CancellationTokenSource _stop = new();
    readonly SemaphoreSlim _progress = new(0);
    readonly Task _reader;
    long _consumed;
    long _position;

    /// <param name="start">The first byte to read (e.g. a safetensors data section's start).</param>
    /// <param name="window">How far ahead of the consumed offset it may read, in bytes.</param>
    public ReadAhead(string path, long start, long window = 256L << 20)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, ChunkBytes);
        _end = new FileInfo(path).Length;
        _window = window;
        _consumed = start;
        _position = start;
        _reader = Task.Factory.StartNew(() => Run(path), _stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>How far it has read (for tests and diagnostics).</summary>
    public long Position => Interlocked.Read(ref _position);

    /// <summary>The loader has read up to <paramref name="offset"/>; the read-ahead may move on to offset + window.</summary>
    public void Consumed(long offset)
    {
        if (offset <= Interlocked.Read(ref _consumed)) return;
        Interlocked.Exchange(ref _consumed, offset);
        _progress.Release();
    }

    void Run(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            // Native, and freed on the way out: a managed 8 MiB array per shard would sit in the large object heap as
            // garbage until a full collection, and a load-dispose cycle would grow the process by it.
            using var buffer = new NativeBuffer(ChunkBytes);
            long position = _position;
            while (position < _end && !_stop.IsCancellationRequested)
            {
                while (position - Interlocked.Read(ref _consumed) >= _window)
                {
                    if (_stop.IsCancellationRequested) return;
                    _progress.Wait(TimeSpan.FromMilliseconds(50));
                }
                int n = RandomAccess.Read(handle, buffer.Span[..(int)Math.Min(ChunkBytes, _end - position)], position);
                if (n == 0) return;
                position += n;
                Interlocked.Exchange(ref _position, position);
            }
        }
        catch (IOException)
        {
            // Only a hint: the loader's own reads report any real problem with the file, naming it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _progress.Release();
        _reader.Wait();
        _stop.Dispose();
        _progress.Dispose();
    }

    /// <summary>Unmanaged bytes with a span over them, freed on dispose.</summary>
    sealed unsafe class NativeBuffer(int length) : IDisposable
    {
        readonly void* _memory = System.Runtime.InteropServices.NativeMemory.Alloc((nuint)length);

        public Span<byte> Span => new(_memory, length);

        public void Dispose() => System.Runtime.InteropServices.NativeMemory.Free(_memory);
    }
}
