namespace SchedExt.Extender.Protocol;

/// <summary>
/// The fast scan of a NodeNames array in the plain form kube-scheduler writes: strings of printable ASCII without
/// escapes, separated by commas, with optional spaces and tabs (no line breaks, so the JSON reader's line numbers stay
/// right). Resumable: <see cref="Run"/> reads as far as the bytes given allow and can be called again when more have
/// arrived (<see cref="EarlyNames"/>); over a whole body it either completes or gives up
/// (<see cref="ExtenderArgsReader.TryScanNames"/>), and anything it gives up on is left to the JSON reader.
/// </summary>
internal struct NameScan
{
    private Step _step;

    /// <summary>A scan of the array whose first element starts at or after <paramref name="start"/> (just past the <c>[</c>).</summary>
    public NameScan(int start)
    {
        At = start;
        Close = -1;
    }

    private enum Step : byte
    {
        /// <summary>Before the first element, or the closing bracket of an empty array.</summary>
        First,

        /// <summary>Before an element (after a comma).</summary>
        Element,

        /// <summary>After an element: a comma or the closing bracket.</summary>
        AfterElement,

        Complete,

        /// <summary>Not the plain form.</summary>
        Abandoned,
    }

    /// <summary>Where the scan goes on.</summary>
    public int At { get; private set; }

    /// <summary>The index of the closing <c>]</c> once <see cref="Complete"/>.</summary>
    public int Close { get; private set; }

    /// <summary>The array was read to its closing bracket.</summary>
    public readonly bool Complete => _step == Step.Complete;

    /// <summary>The array is not in the plain form; nothing more will be read.</summary>
    public readonly bool Abandoned => _step == Step.Abandoned;

    /// <summary>Reads on over <paramref name="body"/>, adding each complete name to <paramref name="names"/>.</summary>
    public void Run(ReadOnlySpan<byte> body, List<Utf8Slice> names)
    {
        var i = At;
        while (_step is not (Step.Complete or Step.Abandoned))
        {
            while (i < body.Length && body[i] is (byte)' ' or (byte)'\t')
            {
                i++;
            }

            if (i >= body.Length)
            {
                break;
            }

            var b = body[i];
            if (_step == Step.AfterElement && b == (byte)',')
            {
                _step = Step.Element;
                i++;
            }
            else if (_step != Step.Element && b == (byte)']')
            {
                _step = Step.Complete;
                Close = i;
            }
            else if (_step == Step.AfterElement || b != (byte)'"')
            {
                _step = Step.Abandoned;
            }
            else
            {
                var contents = i + 1;
                var length = body[contents..].IndexOfAnyExcept(ExtenderArgsReader.PlainNameBytes);
                if (length < 0)
                {
                    // The name has not fully arrived: take it up again from its opening quote.
                    break;
                }

                if (body[contents + length] != (byte)'"')
                {
                    _step = Step.Abandoned;
                    break;
                }

                names.Add(new Utf8Slice(contents, length, false));
                _step = Step.AfterElement;
                i = contents + length + 1;
            }
        }

        At = i;
    }
}
