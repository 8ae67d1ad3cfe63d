% rebase('base.tpl', title=str(status), back_path='/')
<h1>{{status}}</h1>
<p class="error">{{message}}</p>
<p><a href="/">{{_('Back to the dashboard')}}</a></p>
