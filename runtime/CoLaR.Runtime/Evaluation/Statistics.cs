namespace CoLaR.Evaluation;

/// <summary>
/// A mean over repeated measurements (usually one per seed) with its uncertainty.
/// </summary>
/// <param name="Mean">The arithmetic mean.</param>
/// <param name="StdDev">Sample standard deviation (divides by n - 1); 0 when n = 1.</param>
/// <param name="HalfWidth">Half-width of the two-sided confidence interval for the mean,
/// t(1 - α/2, n - 1) · s / √n. 0 when n = 1: one measurement says nothing about the spread, and the
/// tables print such values without "±".</param>
/// <param name="Count">n, the number of measurements.</param>
/// <param name="Confidence">The confidence level of <paramref name="HalfWidth"/> (0.95 by default).</param>
public readonly record struct MeanEstimate(double Mean, double StdDev, double HalfWidth, int Count, double Confidence)
{
    /// <summary>Lower end of the confidence interval.</summary>
    public double Lower => Mean - HalfWidth;
    /// <summary>Upper end of the confidence interval.</summary>
    public double Upper => Mean + HalfWidth;
    /// <summary>Whether an interval could be estimated (n ≥ 2).</summary>
    public bool HasInterval => Count >= 2;
}

/// <summary>
/// Statistics for reported numbers: mean, sample standard deviation, Student-t confidence intervals over
/// seeds, and Wilson intervals for a single accuracy proportion. Quantiles are computed, not looked up:
/// the Student-t CDF comes from the regularized incomplete beta function (continued fraction, accurate to
/// about 1e-14), and its inverse by bisection, so every degree of freedom and confidence level is exact to
/// the printed digits.
/// </summary>
public static class Statistics
{
    /// <summary>Arithmetic mean. Throws on an empty list or a non-finite value (a NaN accuracy is a bug upstream).</summary>
    public static double Mean(IReadOnlyList<double> values)
    {
        CheckValues(values);
        double sum = 0;
        foreach (double v in values) sum += v;
        return sum / values.Count;
    }

    /// <summary>Sample standard deviation (Bessel's n - 1); 0 for a single value.</summary>
    public static double SampleStdDev(IReadOnlyList<double> values)
    {
        double mean = Mean(values);
        if (values.Count < 2) return 0;
        // Two passes: subtracting the mean first avoids the cancellation of the sum-of-squares formula.
        double ss = 0;
        foreach (double v in values) ss += (v - mean) * (v - mean);
        return Math.Sqrt(ss / (values.Count - 1));
    }

    /// <summary>
    /// Mean with a two-sided Student-t confidence interval (df = n - 1), the usual way to report
    /// a metric over n seeds. n = 1 gives half-width 0 (<see cref="MeanEstimate.HasInterval"/> is false).
    /// </summary>
    public static MeanEstimate MeanWithInterval(IReadOnlyList<double> values, double confidence = 0.95)
    {
        CheckConfidence(confidence);
        double mean = Mean(values);
        int n = values.Count;
        if (n == 1) return new(mean, 0, 0, 1, confidence);
        double sd = SampleStdDev(values);
        double half = StudentTCritical(n - 1, confidence) * sd / Math.Sqrt(n);
        return new(mean, sd, half, n, confidence);
    }

    /// <summary>
    /// The two-sided critical value of Student's t: the t with P(|T| ≤ t) = <paramref name="confidence"/>
    /// for <paramref name="degreesOfFreedom"/> ≥ 1 (12.706 for df = 1, 2.776 for df = 4, 1.984 for df = 100 at 95 %).
    /// </summary>
    public static double StudentTCritical(int degreesOfFreedom, double confidence = 0.95)
    {
        if (degreesOfFreedom < 1)
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "Needs at least 1 degree of freedom (2 measurements).");
        CheckConfidence(confidence);
        double alpha = 1 - confidence;
        if (degreesOfFreedom == 1)
            return Math.Tan(Math.PI * confidence / 2); // Cauchy: closed form
        // Two-sided tail probability falls as t grows: bracket, then bisect to machine precision.
        double lo = 0, hi = 2;
        while (TwoSidedTail(hi, degreesOfFreedom) > alpha) { lo = hi; hi *= 2; }
        for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (TwoSidedTail(mid, degreesOfFreedom) > alpha) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>Student-t cumulative distribution function P(T ≤ t) with <paramref name="degreesOfFreedom"/> (> 0, may be fractional).</summary>
    public static double StudentTCdf(double t, double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0)) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom));
        if (double.IsNaN(t)) return double.NaN;
        double tail = TwoSidedTail(Math.Abs(t), degreesOfFreedom) / 2;
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>
    /// Standard normal quantile Φ⁻¹(p) for 0 &lt; p &lt; 1 (Acklam's rational approximation, relative error
    /// below 1.2e-9; 1.959964 for p = 0.975).
    /// </summary>
    public static double NormalQuantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Must be strictly between 0 and 1.");
        // Coefficients of P. J. Acklam's published algorithm (central and tail rational functions).
        const double a1 = -3.969683028665376e+01, a2 = 2.209460984245205e+02, a3 = -2.759285104469687e+02,
            a4 = 1.383577518672690e+02, a5 = -3.066479806614716e+01, a6 = 2.506628277459239e+00;
        const double b1 = -5.447609879822406e+01, b2 = 1.615858368580409e+02, b3 = -1.556989798598866e+02,
            b4 = 6.680131188771972e+01, b5 = -1.328068155288572e+01;
        const double c1 = -7.784894002430293e-03, c2 = -3.223964580411365e-01, c3 = -2.400758277161838e+00,
            c4 = -2.549732539343734e+00, c5 = 4.374664141464968e+00, c6 = 2.938163982698783e+00;
        const double d1 = 7.784695709041462e-03, d2 = 3.224671290700398e-01, d3 = 2.445134137142996e+00,
            d4 = 3.754408661907416e+00;
        const double pLow = 0.02425, pHigh = 1 - pLow;
        if (p < pLow)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / ((((d1 * q + d2) * q + d3) * q + d4) * q + 1);
        }
        if (p <= pHigh)
        {
            double q = p - 0.5, r = q * q;
            return (((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q /
                   (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1);
        }
        double qt = Math.Sqrt(-2 * Math.Log(1 - p));
        return -(((((c1 * qt + c2) * qt + c3) * qt + c4) * qt + c5) * qt + c6) / ((((d1 * qt + d2) * qt + d3) * qt + d4) * qt + 1);
    }

    /// <summary>
    /// Wilson score interval for a proportion (e.g. accuracy of one seed over its test questions). Unlike the
    /// normal approximation it stays inside [0, 1] and is sensible at 0 % and 100 %. Returns (0, 1) for 0 trials.
    /// </summary>
    public static (double Lower, double Upper) WilsonInterval(int successes, int trials, double confidence = 0.95)
    {
        if (trials < 0) throw new ArgumentOutOfRangeException(nameof(trials));
        if (successes < 0 || successes > trials) throw new ArgumentOutOfRangeException(nameof(successes), successes, $"Must be within 0..{trials}.");
        CheckConfidence(confidence);
        if (trials == 0) return (0, 1);
        double z = NormalQuantile(1 - (1 - confidence) / 2);
        double n = trials, p = successes / n, z2 = z * z;
        double denominator = 1 + z2 / n;
        double center = (p + z2 / (2 * n)) / denominator;
        double half = z / denominator * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return (Math.Max(0, center - half), Math.Min(1, center + half));
    }

    // P(|T| > t) for t ≥ 0 = I_x(df/2, 1/2) with x = df / (df + t²).
    static double TwoSidedTail(double t, double df)
    {
        if (t == 0) return 1;
        if (double.IsPositiveInfinity(t)) return 0;
        double x = df / (df + t * t);
        return RegularizedIncompleteBeta(df / 2, 0.5, x);
    }

    /// <summary>I_x(a, b), the regularized incomplete beta function, for a, b &gt; 0 and 0 ≤ x ≤ 1.</summary>
    internal static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x);
        // The continued fraction converges fast for x < (a+1)/(a+b+2); otherwise use I_x(a,b) = 1 - I_{1-x}(b,a).
        if (x < (a + 1) / (a + b + 2))
            return Math.Exp(logFront) * BetaContinuedFraction(a, b, x) / a;
        return 1 - Math.Exp(logFront) * BetaContinuedFraction(b, a, 1 - x) / b;
    }

    // Continued fraction for the incomplete beta function, evaluated with the modified Lentz method.
    static double BetaContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300, eps = 1e-16;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 10_000; m++)
        {
            int m2 = 2 * m;
            // Even term.
            double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + num * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + num / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            // Odd term.
            num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + num * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + num / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < eps) return h;
        }
        throw new ArithmeticException($"Incomplete beta continued fraction did not converge (a={a}, b={b}, x={x}).");
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos approximation, g = 7, about 15 significant digits).</summary>
    internal static double LogGamma(double x)
    {
        if (!(x > 0)) throw new ArgumentOutOfRangeException(nameof(x));
        if (x < 0.5) // reflection keeps the series in its accurate range
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        ReadOnlySpan<double> g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7,
        ];
        x -= 1;
        double sum = g[0];
        for (int i = 1; i < g.Length; i++) sum += g[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    static void CheckValues(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("No values.", nameof(values));
        for (int i = 0; i < values.Count; i++)
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"Value {i} is {values[i]}; every measurement must be finite.", nameof(values));
    }

    static void CheckConfidence(double confidence)
    {
        if (!(confidence > 0 && confidence < 1))
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "Must be strictly between 0 and 1 (e.g. 0.95).");
    }
}
